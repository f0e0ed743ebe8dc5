"""The worksheet in a real browser, with the keyboard alone: from the diagram to the inspector, "Check my
calculation", typed values, Check, and a hint (issue 14 §7)."""
from playwright.sync_api import expect


def test_a_learner_checks_mazurs_w5_by_keyboard(page, live_server, console_errors):
    page.goto(live_server + "/?preset=mazur")
    page.wait_for_function("() => document.getElementById('loss-plot').data !== undefined")
    page.locator("#node-0-0").focus()
    for key in ("ArrowRight", "ArrowRight", "ArrowRight"):  # i1 → edge w1 → h1 → edge w5
        page.keyboard.press(key)
    assert page.evaluate("() => document.activeElement.id") == "edge-1-0-0"
    page.keyboard.press("Enter")
    expect(page.locator("#inspector.open")).to_contain_text("w5")
    button = page.get_by_role("button", name="Check my calculation")
    button.focus()
    page.keyboard.press("Enter")
    sheet = page.locator("#worksheet")
    expect(sheet).to_contain_text("Check my calculation: weight w5 (h1 → o1)")
    inputs = sheet.locator("input[data-quantity]")
    assert [inputs.nth(k).get_attribute("data-quantity") for k in range(inputs.count())] == [
        "z", "a", "loss_term", "dloss_da", "dact", "delta", "grad_weight", "weight_after"]
    inputs.first.focus()
    for value in ("1.1059", "0.751365", "0.274811", "0.741365", "0.186816", "0.1395"):  # δ_o1 is 0.1385
        page.keyboard.type(value)
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.classList.contains('ws-hint')"):
            page.keyboard.press("Tab")  # past the row's hint button
    page.keyboard.type("0.082167")
    page.keyboard.press("Enter")  # submits: Check
    expect(sheet.locator("[data-quantity='delta']")).to_have_attribute("data-correct", "false")
    for q in ("z", "a", "loss_term", "dloss_da", "dact", "grad_weight"):
        expect(sheet.locator(f"[data-quantity='{q}']")).to_have_attribute("data-correct", "true")
    expect(sheet).to_contain_text("Its factors are right, so the product itself is wrong")
    expect(sheet).to_contain_text("6 of 7 right")
    hint = sheet.get_by_role("button", name="Hint: the formula for δ(o1)")
    hint.focus()
    page.keyboard.press("Enter")
    expect(sheet).to_contain_text("Formula: δ = ∂L/∂o · f′(z)")
    expect(sheet.locator("[data-quantity='delta']")).to_have_value("0.1395")  # what was typed stays
    expect(page.locator("#metric-step")).to_have_text("0")  # nothing applied
    assert console_errors == []
