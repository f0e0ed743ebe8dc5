"""One screen: at 1280x800 the loop fits without scrolling, nothing moves as numbers appear or phases advance, the
inspector opens in view, and at 390x844 the diagram fits the width in the phone's order."""
from playwright.sync_api import expect

from .waits import answered

IN_VIEW = ["#transport", "#btn-step", "#btn-play", "#btn-back", "#btn-reset", "svg#network", "#narration", "#metrics",
           "#output-plot", "#loss-plot"]


def box(page, selector: str) -> dict:
    return page.locator(selector).first.bounding_box()


def wait_step(page, step: int) -> None:
    page.wait_for_function(f"() => document.getElementById('network').dataset.step === '{step}'")


def test_after_a_step_the_whole_loop_is_on_one_screen(playground):
    page = playground
    page.click("#btn-step")
    wait_step(page, 1)
    assert page.evaluate("() => window.scrollY") == 0
    for selector in IN_VIEW:
        b = box(page, selector)
        assert b["y"] >= 0 and b["y"] + b["height"] <= 800 and b["x"] >= 0 and b["x"] + b["width"] <= 1280, selector
    expect(page.locator("#narration")).to_contain_text("Step 1 used a batch of 10 rows")


def test_nothing_moves_as_numbers_appear_or_phases_advance(playground):
    page = playground
    # The narration keeps four lines' room, so the caption below it stays put too (a longer one may grow it).
    before = {s: box(page, s) for s in ["#btn-step", "#btn-play", "svg#network", "#narration", "#diagram-caption",
                                        "#output-plot"]}
    page.click("#btn-step")
    wait_step(page, 1)
    page.click("#btn-step")
    wait_step(page, 2)
    assert {s: box(page, s) for s in before} == before
    page.click("#detailed")
    expect(page.locator("#btn-step")).to_have_text("Step: Forward")
    places = []
    for label in ["Loss", "Backward (output)", "Backward (hidden 2)", "Backward (hidden 1)", "Update", "Forward"]:
        page.click("#btn-step")
        expect(page.locator("#btn-step")).to_have_text(f"Step: {label}")
        places.append((box(page, "#btn-step"), box(page, "#btn-play"), box(page, "svg#network")))
    assert all(p == places[0] for p in places), [p for p in places if p != places[0]][:1] + places[:1]


def test_the_inspector_opens_in_view_beside_the_whole_diagram(playground):
    page = playground
    page.click("#btn-step")
    wait_step(page, 1)
    page.locator("#edge-1-0-0").click()
    insp = page.locator("#inspector")
    expect(insp).to_have_class("panel insp open")
    b, net = box(page, "#inspector"), box(page, "svg#network")
    assert 0 <= b["y"] < 800 and b["x"] + b["width"] <= 1280
    assert b["x"] >= net["x"] + net["width"], "the inspector covers the diagram"
    page.click("#insp-close")
    expect(insp).to_have_class("panel insp")


def test_labels_do_not_overlap_in_any_phase(page, live_server):
    for preset in ["/?preset=mazur", "/", "/?preset=spiral"]:
        page.goto(live_server + preset)
        page.wait_for_function("() => document.getElementById('loss-plot').data !== undefined")
        if not page.locator("#detailed").is_checked():
            page.click("#detailed")
        expect(page.locator("#btn-step")).to_contain_text("Step: ")
        phases = []
        for _ in range(7):
            with answered(page, "/ui/phase"):
                page.click("#btn-step")
            overlaps = overlapping_texts(page)
            assert overlaps == [], (preset, page.locator("#btn-step").text_content(), overlaps[:5])
            phases.append(page.locator("#btn-step").text_content())
        assert "Step: Forward" in phases and any("Backward" in p for p in phases)  # every phase was looked at


def test_at_phone_width_the_diagram_fits_and_the_order_is_the_loop(page, live_server):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server + "/")
    page.wait_for_function("() => document.getElementById('loss-plot').data !== undefined")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    net = box(page, "svg#network")
    assert net["x"] >= 0 and net["x"] + net["width"] <= 390
    tops = [box(page, s)["y"] for s in ["#btn-step", "svg#network", "#narration", "#output-plot", "#loss-plot",
                                        "#controls-form", "#share-panel"]]
    assert tops == sorted(tops), tops
    page.click("#btn-step")
    page.wait_for_function("() => document.getElementById('network').dataset.step === '1'")
    assert overlapping_texts(page) == []


def overlapping_texts(page) -> list[tuple[str, str]]:
    boxes = page.evaluate("""() => [...document.querySelectorAll('#network text')]
        .filter(t => getComputedStyle(t).display !== 'none' && t.textContent.trim())
        .map(t => { const r = t.getBoundingClientRect(); return [t.textContent, r.left, r.top, r.right, r.bottom]; })""")
    return [(a[0], b[0]) for i, a in enumerate(boxes) for b in boxes[i + 1:]
            if a[1] < b[3] - 1 and b[1] < a[3] - 1 and a[2] < b[4] - 1 and b[2] < a[4] - 1]


def test_at_phone_width_the_inspector_sheet_leaves_the_diagram_in_view(page, live_server):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server + "/")
    page.wait_for_function("() => document.getElementById('loss-plot').data !== undefined")
    page.click("#btn-step")
    page.wait_for_function("() => document.getElementById('network').dataset.step === '1'")
    page.locator("#node-0-0").focus()
    page.keyboard.press("ArrowRight")  # x1's first edge
    page.keyboard.press("Enter")
    expect(page.locator("#inspector")).to_have_class("panel insp open")
    page.wait_for_timeout(300)
    svg, sheet = page.locator("svg#network").bounding_box(), page.locator("#inspector").bounding_box()
    assert svg["y"] >= 0 and svg["y"] + svg["height"] <= sheet["y"] + 1, (svg, sheet)
