"""Issue 4's teaching tools in a real browser: detailed step, inspector, edits, rewind, gradient check, predict."""
import pytest
from playwright.sync_api import expect

from .test_playground import diagram_weights, session_state, wait_step


def attr(page, selector, name) -> str:
    return page.locator(selector).get_attribute(name)


def number(page, selector, name) -> float:
    return float(attr(page, selector, name))


def next_phase(page, label: str, narration: str) -> None:
    """Click the detailed step's button and wait until the diagram narrates the new phase."""
    button = page.locator("#btn-step")
    expect(button).to_have_text(f"Step: {label}")
    button.click()
    expect(page.locator("#narration")).to_contain_text(narration)


def test_mazur_preset_shows_the_articles_numbers_at_every_phase(playground, live_server):
    page = playground
    page.goto(live_server + "/?preset=mazur")
    expect(page.locator("#message")).to_contain_text("Mazur's worked example")
    # The button's accessible name is what it shows (WCAG 2.5.3, label in name).
    expect(page.get_by_role("button", name="Step: Forward", exact=True)).to_be_visible()

    next_phase(page, "Forward", "Forward pass")
    assert number(page, "#node-1-0", "data-activation") == pytest.approx(0.593269992, abs=1e-9)
    assert number(page, "#node-2-0", "data-activation") == pytest.approx(0.75136507, abs=1e-8)
    assert attr(page, "#node-2-0", "data-delta") == ""  # no deltas before the backward pass
    expect(page.locator("#node-1-0")).to_contain_text("z 0.3775")  # the article's net_h1 = 0.3775
    expect(page.locator("#node-1-0")).to_contain_text("a 0.59327")
    expect(page.locator("#node-2-0")).to_contain_text("a 0.751365")

    next_phase(page, "Loss", "Loss:")
    expect(page.locator("#narration")).to_contain_text("loss over training row #0 (i1 = 0.05, i2 = 0.1) is 0.298371")
    expect(page.locator("#node-2-0")).to_contain_text("t 0.01")
    expect(page.locator("#node-2-1")).to_contain_text("t 0.99")
    expect(page.locator("#node-2-0")).to_contain_text("E 0.274811")  # the article's E_o1 = 0.274811083
    expect(page.locator("#node-2-1")).to_contain_text("E 0.02356")  # and E_o2 = 0.023560026

    next_phase(page, "Backward (output)", "Backward, output layer")
    assert number(page, "#node-2-0", "data-delta") == pytest.approx(0.138498562, abs=1e-9)
    assert attr(page, "#node-1-0", "data-delta") == ""
    assert number(page, "#edge-1-0-0", "data-grad") == pytest.approx(0.082167041, abs=1e-9)
    expect(page.locator("#node-2-0")).to_contain_text("δ 0.138499")
    expect(page.locator("#edge-1-0-0 .num")).to_have_text("w5 0.4 ∂ 0.082167")  # the weight stays beside its gradient
    expect(page.locator("#edge-1-0-0 .num")).to_be_visible()
    assert session_state(page, live_server)["step"] == 0  # nothing applied yet

    next_phase(page, "Backward (hidden 1)", "Backward, hidden layer 1")
    assert attr(page, "#node-1-0", "data-delta") != ""
    assert number(page, "#edge-1-0-0", "data-weight") == 0.40

    next_phase(page, "Update", "Update: every weight moves")
    wait_step(page, 1)
    assert number(page, "#edge-1-0-0", "data-weight") == pytest.approx(0.35891648, abs=1e-8)
    assert number(page, "#edge-0-0-0", "data-weight") == pytest.approx(0.149780716, abs=1e-9)
    expect(page.locator("#edge-1-0-0 .num")).to_have_text("0.4 → 0.358916")
    expect(page.locator("#edge-1-0-0 .num")).to_be_visible()
    state = session_state(page, live_server)
    assert state["weights"][1][0][0] == number(page, "#edge-1-0-0", "data-weight")
    assert state["biases"] == [[0.35, 0.35], [0.6, 0.6]]
    expect(page.get_by_role("button", name="Step: Forward", exact=True)).to_be_visible()

    page.locator("#edge-1-0-0").focus()
    page.keyboard.press("Enter")
    insp = page.locator("#inspector")
    expect(insp).to_contain_text("Weight w5: h1 → o1")  # Mazur's own names
    values = [float(v) for v in insp.locator(".insp-num").evaluate_all("els => els.map(e => e.dataset.value)")]
    for expected in (0.082167041, 0.138498562, 0.593269992, 0.35891648):
        assert any(abs(v - expected) < 1e-8 for v in values), expected


def test_inspector_numbers_equal_the_api_trace(playground, live_server):
    page = playground
    sid = next(c["value"] for c in page.context.cookies() if c["name"] == "bp_session")
    trace = page.request.post(f"{live_server}/api/sessions/{sid}/step", data={"steps": 3}).json()["trace"]
    page.reload()
    page.locator("#edge-1-2-1").focus()
    page.keyboard.press("Enter")
    insp = page.locator("#inspector")
    expect(insp).to_contain_text("Weight h1.3 → h2.2")
    values = [float(v) for v in insp.locator(".insp-num").evaluate_all("els => els.map(e => e.dataset.value)")]
    assert trace["grad_weights"][1][1][2] in values
    assert trace["weights_before"][1][1][2] in values and trace["weights_after"][1][1][2] in values
    assert trace["delta"][1][0][1] in values  # delta of h2.2 for the batch's first row
    assert trace["a"][1][0][2] in values  # a of h1.3 for that row
    page.locator("#node-3-0").click(force=True)
    expect(insp).to_contain_text("Output node")
    values = [float(v) for v in insp.locator(".insp-num").evaluate_all("els => els.map(e => e.dataset.value)")]
    assert trace["z"][2][0][0] in values and trace["delta"][2][0][0] in values
    assert trace["grad_biases"][2][0] in values and trace["biases_after"][2][0] in values


def test_back_and_rewind_then_restep_are_exact(playground, live_server):
    page = playground
    step = page.get_by_role("button", name="Step", exact=True)
    for n in range(1, 6):
        step.click()
        wait_step(page, n)
    after_five = diagram_weights(page)
    page.get_by_role("button", name="Back", exact=True).click()
    wait_step(page, 4)
    step.click()
    wait_step(page, 5)
    assert diagram_weights(page) == after_five
    page.locator("#rewind-step").fill("2")
    wait_step(page, 2)
    assert session_state(page, live_server)["step"] == 2
    for n in (3, 4, 5):
        step.click()
        wait_step(page, n)
    assert diagram_weights(page) == after_five


def test_editing_a_weight_changes_exactly_that_weight(playground, live_server):
    page = playground
    before = diagram_weights(page)
    page.locator("#edge-0-1-2").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#inspector")).to_contain_text("Weight x2 → h1.3")
    page.locator("#insp-edit-value").fill("0.75")
    page.locator("#inspector").get_by_role("button", name="Set").click()
    expect(page.locator("#edge-0-1-2")).to_have_attribute("data-weight", "0.75")
    after = diagram_weights(page)
    assert after == {**before, (0, 1, 2): 0.75}
    assert session_state(page, live_server)["weights"][0][2][1] == 0.75
    page.locator("#insp-edit-value").fill("lots")
    page.locator("#inspector").get_by_role("button", name="Set").click()
    expect(page.locator("#insp-edit-error")).to_contain_text("value")
    assert diagram_weights(page) == after


def test_gradient_check_button(playground):
    page = playground
    page.get_by_role("button", name="Gradient check", exact=True).click()
    expect(page.locator("#gradcheck")).to_contain_text("agrees with finite differences")
    assert number(page, "#gradcheck-max", "data-value") < 1e-6


def test_predict_by_clicking_the_output_plot(playground):
    page = playground
    box = page.locator("#output-plot .nsewdrag").first.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] * 0.25)
    expect(page.locator("#narration")).to_contain_text("the network outputs class")
    expect(page.locator("#diagram-caption")).to_contain_text("Forward pass for x1 =")
    x1, x2 = float(page.locator("#f-input_0").input_value()), float(page.locator("#f-input_1").input_value())
    assert x1 > 0 and x2 > 0
    assert number(page, "#node-0-0", "data-activation") == x1 and number(page, "#node-0-1", "data-activation") == x2
