"""Issue 25 §7 in the browser, from the keyboard: the 404 page, /lessons with its way back first and the learner's
progress, a follower's ended room, the lesson cards' instructions, and the loss curve's legend. conftest.py runs
axe-core on every page each test leaves open; these also check the states they pass through."""
from playwright.sync_api import expect

from app.lessons import LESSONS

from .axe import violations
from .test_accessibility import load
from .test_lessons import answer, open_card
from .test_live import follow, present, two  # noqa: F401 - the live tests' two browsers

PALETTE = {"#0877bd", "#f59322"}  # the classes' blue and orange (negative and positive)


def test_an_unknown_address_is_a_page_with_a_way_back_from_the_keyboard(page, live_server, console_errors):
    response = page.goto(live_server + "/no/such/page")
    assert response.status == 404
    expect(page).to_have_title("Not found · Backprop Playground")
    expect(page.get_by_role("heading", level=1)).to_have_text("This page does not exist")
    assert page.evaluate("() => document.documentElement.lang") == "en"
    assert violations(page) == []
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Open the playground")).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_function("() => (document.getElementById('loss-plot') || {}).data !== undefined")
    assert page.url.startswith(live_server + "/?")  # the playground, its settings in the address bar
    assert [e for e in console_errors if "404" not in e] == []  # the browser logs the 404 it was sent


def test_the_lessons_page_starts_with_its_way_back_and_shows_the_learners_progress(page, live_server, console_errors):
    open_card(page, live_server, "/lessons/forward/hidden")
    expect(page.locator("#lesson")).to_contain_text("click its edge into h1")
    answer(page, "7.60")
    page.goto(live_server + "/lessons")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="← Back to the playground")).to_be_focused()
    expect(page.locator("#lessons-progress")).to_contain_text(f"1 of {sum(len(lesson.cards) for lesson in LESSONS)} cards done")
    forward = page.locator("[data-lesson='forward']")
    expect(forward).to_contain_text("Lesson 2 · 1 of 2 done")
    expect(forward.locator(".lesson-cards li").first).to_contain_text("✓ done")
    box = page.get_by_role("link", name="← Back to the playground").bounding_box()
    assert box["y"] + box["height"] <= 100  # at the top, in view without scrolling
    assert violations(page) == []
    assert console_errors == []


def test_a_followers_ended_room_says_what_a_follower_can_do(two, live_server):
    presenter, follower = two
    code = present(presenter, live_server)
    follow(follower, live_server, code)
    expect(follower.locator("#narration")).to_contain_text("Waiting for the presenter's first step")
    for n in (1, 2, 3):
        presenter.locator("#btn-step").click()
        expect(follower.locator("#live-status")).to_have_attribute("data-step", str(n))
    presenter.locator("#btn-stop-presenting").click()
    expect(follower.locator("#live-status")).to_contain_text("The presenter stopped presenting at step 3.")
    load(follower, f"{live_server}/live/{code}")  # a reload, or a latecomer: the room's end, from its snapshot
    expect(follower.locator("#narration")).to_contain_text("The presenter stopped presenting at step 3: these are")
    follower.locator("#node-1-0").focus()
    follower.keyboard.press("Enter")
    inspector = follower.locator("#inspector.open")
    expect(inspector).to_contain_text("The room ended at step 3")
    expect(inspector).not_to_contain_text("press Step")
    assert violations(follower) == []


def test_the_loss_curves_lines_differ_by_dash_and_marker_not_by_the_class_colours(playground):
    page = playground
    page.click("#btn-step")
    page.wait_for_function("() => document.getElementById('loss-plot').data[0].x.length === 2")
    lines = page.evaluate("() => document.getElementById('loss-plot').data.map(t => [t.name, t.line.color, "
                          "t.line.dash || 'solid', t.marker.symbol || 'circle'])")
    assert [name for name, *_ in lines] == ["train", "test"]
    assert not {color.lower() for _, color, *_ in lines} & PALETTE
    assert lines[0][2:] != lines[1][2:]  # told apart by dash and marker
    # The output plot's legend keys are neutral too (the points keep their class's colour).
    keys = page.evaluate("() => document.getElementById('output-plot').data.filter(t => t.showlegend !== false)"
                         ".map(t => [t.name, t.marker.color])")
    assert [name for name, _ in keys] == ["train", "test"] and not {c for _, c in keys} & PALETTE
