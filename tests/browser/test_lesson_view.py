"""A lesson card keeps the diagram in view (issue 25 §2): at 1280x800 the card, the toolbar and the whole diagram are on
one screen after every Step; with Detailed step on, the toolbar's buttons keep one row and Redo is not another
"Forward"; on a phone the card's explanation folds away and stays folded."""
from urllib.parse import urlparse

from playwright.sync_api import expect

from .waits import IDLE, answered

PLOTS = "() => (document.getElementById('loss-plot') || {}).data !== undefined"


def open_card(page, url: str, path: str) -> None:
    page.goto(url + path)
    page.wait_for_function(PLOTS)
    expect(page.locator("#lesson .lesson-task")).to_be_visible()


def step(page) -> None:
    """Click Step and wait for its answer: /ui/step, or /ui/phase with Detailed step on."""
    with page.expect_response(lambda r: urlparse(r.url).path in ("/ui/step", "/ui/phase")):
        page.click("#btn-step")
    page.wait_for_function(IDLE)


def in_view(page, selector: str, width: int = 1280, height: int = 800) -> bool:
    b = page.locator(selector).first.bounding_box()
    return b is not None and b["x"] >= 0 and b["y"] >= 0 and b["x"] + b["width"] <= width and b["y"] + b["height"] <= height


def button_tops(page) -> dict[str, float]:
    """The top of every visible button of the toolbar, by its id, and of the speed's menu with its label."""
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('#transport button'),
        document.getElementById('speed').form].filter(b => b.getClientRects().length)
        .map(b => [b.id || b.className, b.getBoundingClientRect().top]))""")


def set_detailed(page, on: bool) -> None:
    if page.locator("#detailed").is_checked() != on:
        with answered(page, "/ui/detailed"):
            page.click("#detailed")
    if on:
        expect(page.locator("#btn-step")).to_contain_text("Step: ")
    else:
        expect(page.locator("#btn-step")).to_have_text("Step")


def test_a_lesson_card_the_toolbar_and_the_whole_diagram_share_the_screen_after_each_step(page, live_server):
    open_card(page, live_server, "/lessons/deltas/hidden-delta")
    set_detailed(page, False)
    for _ in range(3):
        step(page)
        assert page.evaluate("() => window.scrollY") == 0
        for selector in ["#lesson .lesson-task", "#lesson-answer", "#transport", "svg#network"]:
            assert in_view(page, selector), selector
    set_detailed(page, True)  # the phases' list takes a row of its own: the diagram still fits
    for _ in range(4):
        step(page)
        for selector in ["#lesson .lesson-task", "#transport", "svg#network"]:
            assert in_view(page, selector), (selector, page.locator("#btn-step").text_content())
    card, net = page.locator("#lesson").bounding_box(), page.locator("svg#network").bounding_box()
    assert card["x"] + card["width"] <= net["x"], "the card sits beside the diagram, not over or above it"


def test_with_detailed_step_on_every_toolbar_button_keeps_one_row(page, live_server):
    # The default page (two hidden layers: "Backward (hidden 2)" is the longest label), then beside a lesson card.
    for path in ["/", "/lessons/deltas/hidden-delta"]:
        page.goto(live_server + path)
        page.wait_for_function(PLOTS)
        set_detailed(page, True)
        places = []
        for _ in range(6):
            tops = button_tops(page)
            assert len(tops) == 7 and len(set(tops.values())) == 1, (path, tops)
            places.append(page.locator("#btn-reset").bounding_box())
            step(page)
        assert all(p == places[0] for p in places), (path, "Reset moved as the phases advanced")


def test_redo_and_the_forward_pass_have_different_names(playground):
    page = playground
    set_detailed(page, True)
    toolbar = page.locator("#transport")
    expect(toolbar.get_by_role("button", name="Step: Forward", exact=True)).to_be_visible()
    expect(page.locator("#btn-forward")).to_have_accessible_name("Redo")
    expect(page.locator("#btn-forward")).not_to_have_attribute("title", "Forward")
    expect(toolbar.get_by_role("button", name="Forward", exact=True)).to_have_count(0)
    names = page.evaluate("() => [...document.querySelectorAll('#transport button')].map(b => b.textContent.trim())")
    assert len(names) == len(set(names)), names
    expect(page.locator("footer")).to_contain_text("F Redo")


def test_on_a_phone_the_explanation_folds_by_keyboard_and_stays_folded(page, live_server):
    page.set_viewport_size({"width": 390, "height": 844})
    open_card(page, live_server, "/lessons/training/four-stages")
    read = page.locator("#lesson-read")
    expect(read).to_have_attribute("open", "")
    page.locator("#lesson-read summary").focus()
    page.keyboard.press("Enter")
    expect(read).not_to_have_attribute("open", "")
    expect(page.locator("#lesson .lesson-task")).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    # Reset draws this card again (a new network): the explanation stays folded.
    page.evaluate("() => { document.getElementById('lesson').dataset.before = 'reset'; }")
    with answered(page, "/ui/reset"):
        page.click("#btn-reset")
    expect(page.locator("#lesson")).not_to_have_attribute("data-before", "reset")  # the card was swapped
    expect(read).not_to_have_attribute("open", "")
    step(page)
    for selector in ["#lesson .lesson-task", "#btn-step", "svg#network"]:
        assert in_view(page, selector, 390, 844), selector
