"""The presenter's screen on a projector (issue 25 §3): with the join card shown and a question open, the whole
diagram, its narration and the metrics are in view at 1280×800; at 1920×1080 everything is drawn larger (the
metrics at 24 px or more); a revealed result folds to one line at the next step, on the presenter's and the
followers' screens, and opens again by a click or the keyboard."""
from playwright.sync_api import expect

from .test_accessibility import violations
from .test_live import follow, present, two  # noqa: F401 - `two` is a fixture
from .waits import answered


def inside(page, selector: str) -> bool:
    """Whether the element's whole box lies within the viewport."""
    return page.evaluate("""s => { const r = document.querySelector(s).getBoundingClientRect();
        return r.width > 0 && r.height > 0 && r.left >= 0 && r.top >= 0 && r.right <= innerWidth
               && r.bottom <= innerHeight; }""", selector)


def rendered_px(page, selector: str) -> float:
    """The smallest on-screen height of the matching SVG texts' font: their font size times the SVG's scale."""
    return page.evaluate("""s => Math.min(...[...document.querySelectorAll(s)].map(t => {
        const svg = t.ownerSVGElement, scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
        return parseFloat(getComputedStyle(t).fontSize) * scale; }))""", selector)


def ask_direction(presenter) -> None:
    presenter.select_option("#live-ask", index=0)
    with answered(presenter, "/ui/live/ask"):
        presenter.locator("#btn-ask").click()
    expect(presenter.locator("#btn-reveal")).to_be_visible()


def test_the_presenter_projects_at_1280_and_1920(two, live_server):
    presenter, _ = two
    present(presenter, live_server)
    for n in (1, 2):
        with answered(presenter, "/ui/step"):
            presenter.locator("#btn-step").click()
    ask_direction(presenter)
    presenter.evaluate("() => window.scrollTo(0, 0)")
    # 1280×800: the join card, the open question, the whole diagram, its narration and the metrics, together.
    for shown in (".live-code", ".live-qr svg", "#btn-reveal", "svg#network", "#narration", "#metrics"):
        assert inside(presenter, shown), shown
    assert violations(presenter) == []

    presenter.set_viewport_size({"width": 1920, "height": 1080})
    presenter.evaluate("() => window.scrollTo(0, 0)")
    for shown in (".live-code", "#btn-reveal", "svg#network", "#narration", "#metrics"):
        assert inside(presenter, shown), shown
    sizes = presenter.evaluate("() => [...document.querySelectorAll('#metrics dd')].map("
                               "d => parseFloat(getComputedStyle(d).fontSize))")
    assert sizes and min(sizes) >= 24, sizes
    assert rendered_px(presenter, "svg#network .node-name") >= 20  # the nodes' names, from the back of a room
    assert rendered_px(presenter, "svg#network .node text:not(.node-name)") >= 16  # their numbers


def test_a_revealed_result_folds_at_the_next_step(two, live_server):
    presenter, follower = two
    code = present(presenter, live_server)
    follower.set_viewport_size({"width": 390, "height": 844})
    follow(follower, live_server, code)
    ask_direction(presenter)
    follower.locator(".live-choices button").first.click()
    expect(presenter.locator("#live-count")).to_have_text("1 answer")
    with answered(presenter, "/ui/live/reveal"):
        presenter.locator("#btn-reveal").click()
    for page in (presenter, follower):  # shown whole at the step Reveal took
        expect(page.locator(".live-bars")).to_be_visible()
        expect(page.locator(".live-folded")).to_have_count(0)
    expect(follower.locator("#live-mine")).to_contain_text("You answered up")

    presenter.locator("#btn-step").click()  # the next step folds it, on every screen
    expect(follower.locator("#live-status")).to_have_attribute("data-step", "2")
    for page in (presenter, follower):
        folded = page.locator(".live-folded")
        expect(folded).to_be_visible()
        expect(folded.locator("summary")).to_contain_text("Step 1's question: the answer was")
        expect(folded).not_to_have_attribute("open", "")
        expect(page.locator(".live-bars")).to_be_hidden()
    expect(follower.locator("#live-mine")).to_have_text("")
    assert violations(follower) == []
    assert violations(presenter) == []
    presenter.locator(".live-folded summary").click()  # a click opens it again
    expect(presenter.locator(".live-bars")).to_be_visible()
    follower.locator(".live-folded summary").focus()  # ... as does the keyboard
    follower.keyboard.press("Enter")
    expect(follower.locator(".live-bars")).to_be_visible()
    expect(follower.locator(".live-answer-key")).to_contain_text("answered right")
