"""Focus goes where the learner is, and phones (issue 25 §4, §5): the worksheet takes the focus when it opens and
gives it back to its opener when it closes, focus survives the answer's swaps, the gradient check's result is brought
into view in a live region; at 390x844 every label of the diagram renders at least 11 px and Plotly's toolbar
covers no title."""
from playwright.sync_api import expect

from .test_layout import overlapping_texts
from .waits import answered

ACTIVE = "() => document.activeElement && document.activeElement.id"
PHONE = {"width": 390, "height": 844}


def open_w5(page, live_server) -> None:
    page.goto(live_server + "/?preset=mazur")
    page.wait_for_function("() => document.getElementById('loss-plot').data !== undefined")
    page.locator("#edge-1-0-0").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#inspector.open")).to_contain_text("w5")


def test_the_worksheet_takes_the_focus_and_gives_it_back(page, live_server, console_errors):
    open_w5(page, live_server)
    page.locator("#insp-worksheet-open").focus()
    with answered(page, "/ui/worksheet"):
        page.keyboard.press("Enter")
    first = page.locator("#worksheet input[data-quantity]").first
    expect(first).to_be_focused()
    assert page.evaluate(ACTIVE) == first.get_attribute("id") == "ws-1"
    page.keyboard.type("1.1059")
    page.keyboard.press("Tab")
    if page.evaluate("() => document.activeElement.classList.contains('ws-hint')"):
        page.keyboard.press("Tab")
    page.keyboard.type("0.75")
    with answered(page, "/ui/worksheet/check"):
        page.keyboard.press("Enter")  # Check: the whole inspector is swapped, the focus stays in its input
    expect(page.locator("#ws-2")).to_be_focused()
    expect(page.locator("#ws-1")).to_have_attribute("data-correct", "true")
    with answered(page, "/ui/worksheet/close"):
        page.keyboard.press("Escape")  # closes the worksheet, not the inspector
    expect(page.locator("#worksheet")).to_have_count(0)
    expect(page.locator("#inspector.open")).to_contain_text("w5")
    expect(page.locator("#insp-worksheet-open")).to_be_focused()
    with answered(page, "/ui/worksheet"):
        page.keyboard.press("Enter")
    expect(page.locator("#ws-1")).to_be_focused()
    page.locator("#ws-close").focus()
    with answered(page, "/ui/worksheet/close"):
        page.keyboard.press("Enter")  # its own close button does the same
    expect(page.locator("#insp-worksheet-open")).to_be_focused()
    page.keyboard.press("Escape")  # then Esc closes the inspector, back to the diagram's edge it was opened on
    expect(page.locator("#inspector")).not_to_have_class("panel insp open")
    expect(page.locator("#edge-1-0-0")).to_be_focused()
    assert console_errors == []


def test_the_gradient_check_result_is_brought_into_view_and_announced(playground):
    page = playground
    assert page.locator("#gradcheck").bounding_box()["y"] > 800  # below the fold at 1280x800
    page.locator("#btn-gradcheck").focus()
    with answered(page, "/ui/gradient-check"):
        page.keyboard.press("Enter")
    result = page.locator("#gradcheck .gradcheck")
    expect(result).to_contain_text("agrees with finite differences")
    page.wait_for_function("""() => { const r = document.querySelector('#gradcheck .gradcheck').getBoundingClientRect();
        return r.top >= 0 && r.bottom <= window.innerHeight; }""")
    live = page.evaluate("() => document.querySelector('#gradcheck .gradcheck').closest('[aria-live]').getAttribute('aria-live')")
    assert live == "polite"
    expect(page.locator("#btn-gradcheck")).to_be_focused()  # its panel was swapped; the focus stayed on it


SMALLEST_LABELS = """() => {
  const svg = document.getElementById('network'), scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  const shown = [...svg.querySelectorAll('text, tspan')].filter(t => t.textContent.trim() && t.getBoundingClientRect().width > 0);
  return shown.map(t => [t.textContent.trim(), parseFloat(getComputedStyle(t).fontSize) * scale]).sort((a, b) => a[1] - b[1]);
}"""


def test_at_phone_width_every_diagram_label_is_at_least_11px(page, live_server):
    page.set_viewport_size(PHONE)
    for preset in ["/", "/?preset=mazur", "/?preset=house-price"]:  # the last: long input names (size_m2)
        page.goto(live_server + preset)
        page.wait_for_function("() => document.getElementById('loss-plot').data !== undefined")
        with answered(page, "/ui/phase" if preset == "/?preset=mazur" else "/ui/step"):
            page.click("#btn-step")
        page.check("#show-numbers")  # every edge's number too
        expect(page.locator(".show-numbers #network")).to_have_count(1)
        labels = page.evaluate(SMALLEST_LABELS)
        assert len(labels) >= 8 and any(t.startswith("a ") for t, _ in labels), labels
        assert labels[0][1] >= 11, (preset, labels[:5])
        net = page.locator("svg#network").bounding_box()
        assert net["x"] >= 0 and net["x"] + net["width"] <= PHONE["width"]  # and the whole diagram still fits
        cut = page.evaluate("""() => { const box = document.getElementById('network').getBoundingClientRect();
            return [...document.querySelectorAll('#network text')].filter(t => t.textContent.trim())
              .map(t => [t.textContent.trim(), t.getBoundingClientRect()])
              .filter(([, r]) => r.left < box.left - 0.5 || r.right > box.right + 0.5).map(([t]) => t); }""")
        assert cut == [], (preset, cut)  # no name runs past the diagram's edge
        heads = page.evaluate("() => [...document.querySelectorAll('.column-head strong, .column-head span')]"
                              ".map(e => parseFloat(getComputedStyle(e).fontSize))")
        assert heads and min(heads) >= 11


def test_at_phone_width_plotlys_toolbar_covers_no_title(page, live_server):
    page.set_viewport_size(PHONE)
    page.goto(live_server + "/")
    page.wait_for_function("() => document.getElementById('loss-plot').data !== undefined")
    for plot in ["#output-plot", "#loss-plot"]:
        page.locator(plot).scroll_into_view_if_needed()
        page.locator(plot).hover()  # a tap or a pointer over the plot is what shows Plotly's toolbar
        boxes = page.evaluate("""(plot) => {
          const box = (e) => { if (!e) return null; const r = e.getBoundingClientRect();
            return r.width && r.height && getComputedStyle(e).display !== 'none' ? [r.left, r.top, r.right, r.bottom] : null; };
          const panel = document.querySelector(plot).closest('.panel');
          return { bar: box(document.querySelector(plot + ' .modebar')),
                   titles: [box(panel.querySelector('h2')), box(document.querySelector(plot + ' .legend'))].filter(Boolean) };
        }""", plot)
        assert len(boxes["titles"]) == 2, boxes  # the panel's heading and the legend that names the plot's sets
        bar = boxes["bar"]
        for t in boxes["titles"]:
            assert bar is None or not (bar[0] < t[2] and t[0] < bar[2] and bar[1] < t[3] and t[1] < bar[3]), (plot, bar, t)


def test_at_phone_width_labels_stay_readable_and_apart_in_every_phase(page, live_server):
    page.set_viewport_size(PHONE)
    page.goto(live_server + "/?preset=mazur")  # detailed step: Forward, Loss, Backward (output, hidden 1), Update
    page.wait_for_function("() => document.getElementById('loss-plot').data !== undefined")
    expect(page.locator("#btn-step")).to_have_text("Step: Forward")
    seen = []
    for _ in range(5):
        with answered(page, "/ui/phase"):
            page.click("#btn-step")
        seen.append(page.locator("#btn-step").text_content())
        labels = page.evaluate(SMALLEST_LABELS)
        assert labels and labels[0][1] >= 11, (seen[-1], labels[:3])
        assert overlapping_texts(page) == [], (seen[-1], overlapping_texts(page)[:3])
    assert "Step: Update" in seen and "Step: Forward" in seen
