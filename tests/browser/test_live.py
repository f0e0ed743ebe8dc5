"""A live room in two browsers: the presenter presents, asks and reveals; a follower watches the steps arrive (htmx's
SSE extension), answers from the keyboard, sees its own mark and the class's answers, inspects, and takes a copy.
axe-core finds nothing on either page."""
import pytest
from playwright.sync_api import expect

from .test_accessibility import load, violations
from .waits import answered


@pytest.fixture
def two(browser, live_server):
    """(presenter, follower): two pages in their own browser contexts (their own cookies), axe allowed in."""
    yield from browsers(browser, 2)


@pytest.fixture
def four(browser, live_server):
    """(presenter, three followers)."""
    yield from browsers(browser, 4)


def browsers(browser, n: int):
    pages, errors, contexts = [], [], []
    for _ in range(n):
        context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        contexts.append(context)
        pages.append(page)
    yield pages
    for c in contexts:
        c.close()
    assert errors == []


def present(page, live_server) -> str:
    load(page, live_server + "/")
    page.locator("#btn-present").click()
    code = page.locator(".live-code")
    expect(code).to_be_visible()
    expect(page.locator(".live-qr svg")).to_be_visible()
    return code.inner_text().replace(" ", "")


def follow(page, live_server, code: str) -> None:
    load(page, f"{live_server}/live/{code}")
    page.wait_for_function("() => document.querySelector('[sse-swap]') !== null")


def test_a_follower_watches_answers_and_takes_a_copy(two, live_server):
    presenter, follower = two
    code = present(presenter, live_server)
    follow(follower, live_server, code)
    expect(follower.locator("#live-status")).to_have_attribute("data-step", "0")

    # Steps, live: the diagram, the metrics and the loss curve follow the presenter.
    for n in (1, 2, 3):
        presenter.locator("#btn-step").click()
        expect(follower.locator("#live-status")).to_have_attribute("data-step", str(n))
        expect(follower.locator("#network")).to_have_attribute("data-step", str(n))
        expect(follower.locator("#metric-step")).to_have_text(str(n))
    follower.wait_for_function("() => document.getElementById('loss-plot').data[0].x.length === 4")
    assert follower.evaluate("() => document.getElementById('loss-plot').data[0].x") == [0, 1, 2, 3]

    # A poll: the follower answers from the keyboard; the presenter's count arrives live. A δ question is asked once
    # a detailed step's Forward shows the class the coming step's numbers.
    with answered(presenter, "/ui/detailed"):
        presenter.check("#detailed")
    with answered(presenter, "/ui/phase"):
        presenter.locator("#btn-step").click()
    number = presenter.locator("#live-ask optgroup[label='A number'] option").first.get_attribute("value")
    presenter.select_option("#live-ask", number)
    presenter.locator("#live-ask").press("Tab")
    presenter.keyboard.press("Enter")
    expect(presenter.locator("#btn-reveal")).to_be_focused()  # the keyboard goes on from the new panel
    expect(follower.locator("#live-poll-question")).to_contain_text("What is δ of")
    follower.locator("#live-number").fill("0.5")
    follower.locator("#live-number").press("Enter")
    expect(follower.locator("#live-mine")).to_have_text("Your answer: 0.5. Waiting for the reveal.")
    expect(presenter.locator("#live-count")).to_have_text("1 answer")

    presenter.keyboard.press("Enter")  # Reveal, which has the focus
    expect(follower.locator("#live-status")).to_have_attribute("data-step", "4")
    expect(follower.locator(".live-answer-key")).to_contain_text("0 of 1 answered right")
    expect(follower.locator("#live-mine")).to_have_text("You answered 0.5: not right.")
    expect(presenter.locator(".live-bars")).to_be_visible()
    assert violations(follower) == []
    assert violations(presenter) == []
    with answered(presenter, "/ui/detailed"):
        presenter.uncheck("#detailed")

    # The inspector, on the follower's own screen: read only.
    follower.locator("#node-1-0").focus()
    follower.keyboard.press("Enter")
    expect(follower.locator("#inspector.open")).to_contain_text("Hidden node")
    expect(follower.locator("#inspector form")).to_have_count(0)
    presenter.locator("#btn-step").click()  # the room moves on: the inspector says so, and follows when asked
    expect(follower.locator("#insp-stale")).to_contain_text("This is step 4; the room is at step 5.")
    follower.locator("#insp-stale button").click()
    expect(follower.locator("#inspector")).to_have_attribute("data-step", "5")
    expect(follower.locator("#insp-stale")).to_have_count(0)
    follower.keyboard.press("Escape")
    expect(follower.locator("#inspector.open")).to_have_count(0)

    # Take a copy, train it, and go back to following: the room never moved.
    follower.locator("#btn-copy").click()
    expect(follower.locator("#live-back")).to_contain_text("Back to the live room")
    follower.wait_for_function("() => document.getElementById('loss-plot').data !== undefined")
    follower.locator("#btn-step").click()
    expect(follower.locator("#network")).to_have_attribute("data-step", "6")
    follower.locator("#live-back a").click()
    expect(follower.locator("#live-status")).to_have_attribute("data-step", "5")
    presenter.locator("#btn-step").click()
    expect(follower.locator("#live-status")).to_have_attribute("data-step", "6")

    # Stop presenting: the follower is told, and keeps the last state.
    presenter.locator("#btn-stop-presenting").click()
    expect(follower.locator("#live-status")).to_contain_text("The presenter stopped presenting at step 6.")
    expect(presenter.locator(".live-code")).to_have_count(0)


# Everything a follower's page shows of the room, to compare: the diagram's DOM (each element's tag, attributes
# sorted by name, and text), the metrics, the diagram's words, the status line and the loss curve's steps.
SHOWN = """() => {
  const walk = (el) => [el.tagName, Array.from(el.attributes).map((a) => [a.name, a.value]).sort(),
                        Array.from(el.childNodes).map((c) => c.nodeType === 1 ? walk(c) : c.textContent.trim())
                          .filter((c) => c !== "")];
  const text = (id) => document.getElementById(id).innerText;
  return {diagram: walk(document.getElementById("network")), metrics: text("metrics"), words: text("row-picker"),
          status: text("live-status"), loss: document.getElementById("loss-plot").data[0].x};
}"""


def test_followers_who_joined_before_and_during_play_end_as_a_fresh_follower(four, live_server):
    """Play's frames reach the followers as patches on the diagram they hold. One follower joins before Play, one
    while it plays (its page is drawn ahead of the frames sent: one is held back); once Play is paused both show
    exactly what a follower's page opened then shows, without reloading, and on the same <svg> they patched."""
    presenter, early, during, fresh = four
    code = present(presenter, live_server)
    follow(early, live_server, code)
    with answered(presenter, "/ui/speed"):
        presenter.select_option("#speed", "1")  # a step a frame: the loss curve stays short of being thinned
    presenter.locator("#btn-play").click()
    expect(presenter.locator("#btn-play.playing")).to_be_visible()
    step = "(n) => Number(document.getElementById('live-status').dataset.step) >= n"
    early.wait_for_function(step, arg=3)
    early.evaluate("() => { window.stayed = document.getElementById('network'); }")
    follow(during, live_server, code)
    during.evaluate("() => { window.stayed = document.getElementById('network'); }")
    joined_at = int(during.locator("#live-status").get_attribute("data-step"))
    during.wait_for_function(step, arg=joined_at + 3)
    with answered(presenter, "/ui/pause"):
        presenter.locator("#btn-play").click()
    last = presenter.locator("#metric-step").inner_text()
    for page in (early, during):  # the last frame may be held back for the interval
        expect(page.locator("#live-status")).to_have_attribute("data-step", last, timeout=30_000)
    follow(fresh, live_server, code)
    expect(fresh.locator("#live-status")).to_have_attribute("data-step", last)
    want = fresh.evaluate(SHOWN)
    assert int(last) > joined_at + 3 and len(want["loss"]) == int(last) + 1
    for page in (early, during):
        assert page.evaluate("() => document.getElementById('network') === window.stayed")  # patched, not redrawn
        page.wait_for_function(f"() => document.getElementById('loss-plot').data[0].x.length === {int(last) + 1}")
        assert page.evaluate(SHOWN) == want


def test_a_follower_keeps_its_focus_across_patches_and_loads_the_room_again_when_one_does_not_fit(two, live_server):
    presenter, follower = two
    code = present(presenter, live_server)
    follow(follower, live_server, code)
    presenter.locator("#btn-step").click()
    expect(follower.locator("#live-status")).to_have_attribute("data-step", "1")
    follower.locator("#node-1-0").focus()
    presenter.locator("#btn-step").click()  # a patch: the diagram is not redrawn, the focus stays on the node
    expect(follower.locator("#live-status")).to_have_text("Live: step 2")
    expect(follower.locator("#node-1-0")).to_be_focused()
    expect(follower.locator("#node-1-0")).to_have_attribute("tabindex", "0")
    follower.evaluate("() => { window.before = true; document.getElementById('network').dataset.structure = 'x'; }")
    presenter.locator("#btn-step").click()  # a patch for a picture this page no longer holds
    follower.wait_for_function("() => window.before === undefined")  # loaded again
    expect(follower.locator("#live-status")).to_have_attribute("data-step", "3")
    expect(follower.locator("#network")).to_have_attribute("data-step", "3")
    presenter.locator("#btn-step").click()  # and follows from there
    expect(follower.locator("#network")).to_have_attribute("data-step", "4")


def test_the_live_page_at_phone_width_has_no_axe_violations(two, live_server):
    presenter, follower = two
    code = present(presenter, live_server)
    follower.set_viewport_size({"width": 390, "height": 844})
    follow(follower, live_server, code)
    presenter.select_option("#live-ask", index=0)
    presenter.locator("#btn-ask").click()
    expect(follower.locator(".live-choices button")).to_have_count(2)
    assert violations(follower) == []
    follower.locator(".live-choices button").first.focus()
    follower.keyboard.press("Enter")
    expect(follower.locator("#live-mine")).to_have_text("Your answer: up. Waiting for the reveal.")


def test_the_room_panels_take_no_room_until_used(playground):
    """Hidden panels stay hidden whatever their own display: no empty box above the toolbar of every page."""
    expect(playground.locator("#live-present")).to_be_hidden()
    assert playground.locator("#live-present").bounding_box() is None
