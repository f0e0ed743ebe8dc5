"""Every task of every lesson, completed through the page as a learner would (issue 15 §6)."""
from playwright.sync_api import expect

from .waits import answered, navigated

PLOTS = "() => (document.getElementById('loss-plot') || {}).data !== undefined"


def open_card(page, url, path):
    page.goto(url + path)
    page.wait_for_function(PLOTS)
    dismiss(page)


def dismiss(page):
    button = page.locator("#message .message button")
    if button.count():
        button.first.click()


def task(page):
    return page.locator("#lesson .lesson-task")


def expect_done(page, timeout=20_000):
    expect(task(page)).to_have_attribute("data-task-status", "done", timeout=timeout)


def answer(page, value):
    expect(task(page)).to_have_attribute("data-task-status", "open")
    page.fill("#lesson-answer", value)
    page.locator("#lesson").get_by_role("button", name="Check").click()
    expect_done(page)


def choose(page, option):
    expect(task(page)).to_have_attribute("data-task-status", "open")
    page.locator("#lesson").get_by_label(option, exact=True).check()
    page.locator("#lesson").get_by_role("button", name="Check").click()
    expect_done(page)


def next_card(page, card):
    with navigated(page):
        page.locator("#lesson .lesson-nav a", has_text="Next").click()
    dismiss(page)
    expect(page.locator("#lesson")).to_have_attribute("data-card", card)


def setting(page, name, value):
    page.fill(f"#f-{name}", value)
    with answered(page, "/ui/config"):
        page.locator(f"#f-{name}").dispatch_event("change")


def play_until_done(page):
    page.click("#btn-play")
    expect_done(page, timeout=60_000)
    if page.locator("#btn-play.playing").count():
        page.click("#btn-play")


def test_lesson_1_what_training_is(page, live_server, console_errors):
    open_card(page, live_server, "/lessons/training/four-stages")
    expect(page.locator("#lesson")).to_have_attribute("data-lesson", "training")
    for phase in ("Forward", "Loss", "Backward", "Backward", "Update"):
        expect(task(page)).to_have_attribute("data-task-status", "open")
        with answered(page, "/ui/phase"):
            page.click("#btn-step")
    expect_done(page)
    next_card(page, "repeat")
    with answered(page, "/ui/detailed"):
        page.uncheck("#detailed")
    setting(page, "stop_loss", "0.05")
    play_until_done(page)
    assert console_errors == []


def test_lesson_2_the_forward_pass_by_hand(page, live_server, console_errors):
    open_card(page, live_server, "/lessons/forward/hidden")
    answer(page, "7.60")
    next_card(page, "output")
    answer(page, "0.8567")
    assert console_errors == []


def test_lesson_3_error_and_learning_rate(page, live_server, console_errors):
    open_card(page, live_server, "/lessons/error/error")
    answer(page, "50000")
    next_card(page, "rate")
    setting(page, "learning_rate", "3")
    page.click("#btn-play")
    expect(page.locator("#message")).to_contain_text("Play paused: the loss grew", timeout=30_000)
    expect(task(page)).to_have_attribute("data-task-status", "open")
    if page.locator("#btn-play.playing").count():
        page.click("#btn-play")
    setting(page, "learning_rate", "0.1")
    with answered(page, "/ui/reset"):
        page.click("#btn-reset")
    play_until_done(page)
    assert all("409" in e or "responseError" in e for e in console_errors), console_errors


def test_lesson_4_the_chain_rule(page, live_server, console_errors):
    open_card(page, live_server, "/lessons/chain-rule/w5")
    answer(page, "0.08217")
    next_card(page, "w1")
    answer(page, "0.0004386")
    assert console_errors == []


def test_lesson_5_deltas_flow_back(page, live_server, console_errors):
    open_card(page, live_server, "/lessons/deltas/hidden-delta")
    answer(page, "0.008771")
    next_card(page, "compare")
    choose(page, "h2")
    assert console_errors == []


def test_lesson_6_matrices_and_mini_batches(page, live_server, console_errors):
    open_card(page, live_server, "/lessons/matrices/matrix-form")
    with answered(page, "/ui/matrix-form"):
        page.check("#matrix-form-toggle")
    page.click("#btn-step")
    expect_done(page)
    next_card(page, "epoch")
    answer(page, "25.0")
    next_card(page, "run-epoch")
    page.click("#btn-epoch")
    expect_done(page)
    assert console_errors == []


def test_lesson_7_initialisation_and_normalisation(page, live_server, console_errors):
    open_card(page, live_server, "/lessons/init-norm/symmetric")
    choose(page, "the same")
    next_card(page, "saturate")
    choose(page, "close to 0")
    assert console_errors == []


def test_lesson_8_softmax_and_cross_entropy(page, live_server, console_errors):
    open_card(page, live_server, "/lessons/softmax/fused")
    answer(page, "0.3227")  # the first flower's δ, which the diagram shows
    next_card(page, "train")
    play_until_done(page)
    # Progress is kept: the list shows every card of this lesson done.
    page.goto(live_server + "/lessons")
    cards = page.locator("[data-lesson='softmax'] .lesson-cards li")
    expect(cards).to_have_count(2)
    for k in range(2):
        expect(cards.nth(k)).to_contain_text("✓ done")
    assert console_errors == []
