"""Predict in a real browser (issue 13 §3): the answer in its own panel, a marker on the output plot that follows
the steps, and a click on the heatmap predicting that point."""
import re

from playwright.sync_api import expect


def open_preset(page, live_server, name):
    page.goto(f"{live_server}/?preset={name}")
    page.wait_for_function("() => document.getElementById('output-plot').data !== undefined")


def marker(page):
    """The 'your input' trace's x and y on the output plot, or None."""
    return page.evaluate("""() => {
        const t = document.getElementById('output-plot').data.find(t => t.name === 'your input');
        return t ? [t.x[0], t.y[0]] : null;
    }""")


def api_prediction(page, live_server, inputs):
    sid = next(c["value"] for c in page.context.cookies() if c["name"] == "bp_session")
    r = page.request.post(f"{live_server}/api/sessions/{sid}/predict", data={"inputs": inputs})
    return r.json()


def test_a_typed_house_is_answered_in_dollars_and_marked_on_the_heatmap(page, live_server, console_errors):
    open_preset(page, live_server, "house-price")
    page.fill("#f-input_0", "100")
    page.fill("#f-input_1", "3")
    page.keyboard.press("Enter")
    answer = page.locator("#predict-answer")
    expect(answer).to_contain_text("For size_m2 = 100, rooms = 3, with the weights after step 0:")
    expect(answer.locator("dt")).to_have_text("price")
    expect(answer.locator("dd")).to_have_text("$150,000 (0 to the network)")
    page.wait_for_function("() => document.getElementById('output-plot').data.some(t => t.name === 'your input')")
    assert marker(page) == [100, 3]
    page.get_by_role("button", name="Step", exact=True).click()
    expect(answer).to_contain_text("with the weights after step 1:")
    dollars = api_prediction(page, live_server, [[100, 3]])["outputs"][0][0]
    expect(answer.locator("strong")).to_have_text(f"${dollars:,.0f}")
    assert page.input_value("#f-input_0") == "100"  # what was typed stays
    assert console_errors == []


def test_the_curves_marker_moves_with_the_network(page, live_server, console_errors):
    open_preset(page, live_server, "sine")
    page.fill("#f-input_0", "1.5")
    page.get_by_role("button", name="Predict").click()
    page.wait_for_function("() => document.getElementById('output-plot').data.some(t => t.name === 'your input')")
    before = marker(page)
    assert before == [1.5, api_prediction(page, live_server, [[1.5]])["outputs"][0][0]]
    page.get_by_role("button", name="Epoch", exact=True).click()
    expect(page.locator("#predict-answer")).to_contain_text("with the weights after step 10:")
    now = api_prediction(page, live_server, [[1.5]])["outputs"][0][0]
    page.wait_for_function(f"() => document.getElementById('output-plot').data.find(t => t.name === 'your input')"
                           f".y[0] === {now!r}")
    assert console_errors == []


def test_a_click_on_the_heatmap_predicts_that_point_with_its_class_and_probabilities(page, live_server, console_errors):
    open_preset(page, live_server, "xor")
    box = page.locator("#output-plot .nsewdrag").first.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.25)
    answer = page.locator("#predict-answer")
    expect(answer).to_contain_text("Predicted class:")
    shares = answer.locator(".predict-probabilities li")
    expect(shares).to_have_count(2)
    x, y = float(page.input_value("#f-input_0")), float(page.input_value("#f-input_1"))
    page.wait_for_function("() => document.getElementById('output-plot').data.some(t => t.name === 'your input')")
    assert marker(page) == [x, y]
    p = api_prediction(page, live_server, [[x, y]])
    expect(answer.locator("[data-class]")).to_have_text(p["classes"][0])
    o = p["outputs"][0][0]
    assert re.sub(r"\s+", " ", shares.nth(1).inner_text()).strip().endswith(f"{100 * o:.1f} %")
    assert console_errors == []
