"""An exercise in a real browser: New exercise, typed with the keyboard, checked, tallied; its link."""
import re

from playwright.sync_api import expect

from app.core import exercise


def test_new_exercise_then_a_right_answer_by_keyboard(page, live_server, console_errors):
    page.goto(live_server + "/")
    page.wait_for_function("() => document.getElementById('loss-plot').data !== undefined")
    page.get_by_role("button", name="New exercise").first.click()
    heading = page.locator("#exercise-heading")
    expect(heading).to_have_text(re.compile(r"Exercise \d+"))
    seed = int(heading.inner_text().split()[-1])
    want = exercise.answer(exercise.make(seed))
    answer = page.get_by_label(re.compile(r"In the first step, what is"))
    answer.focus()
    page.keyboard.type(f"{want:.5g}")
    page.keyboard.press("Enter")
    expect(page.locator("#ex-result")).to_contain_text("✓ Right")
    expect(answer).to_have_attribute("data-correct", "true")
    expect(page.locator("#exercise")).to_contain_text("Right so far: 1 of 1 exercise.")
    # Its link opens the same network for anyone.
    expect(page.locator("#exercise a")).to_have_attribute("href", f"/?exercise={seed}")
    assert console_errors == []
