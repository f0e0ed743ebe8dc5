"""The loss along one weight in a real browser: the inspector's plot after a Step, through Mazur's detailed step, and
at phone width. The `playground` fixture fails a test that logged a console error."""
import re

from playwright.sync_api import expect

from .test_playground import wait_step
from .test_teaching import next_phase


def test_clicking_an_edge_after_a_step_shows_the_loss_along_it(playground):
    page = playground
    page.click("#btn-step")
    wait_step(page, 1)
    page.locator("svg#network .edge").first.click()
    plot = page.locator("#inspector svg.ls-plot")
    expect(plot).to_be_visible()
    expect(plot).to_have_attribute("role", "img")
    expect(plot).to_have_attribute("aria-label", re.compile(r"the tangent's slope ∂L/∂w\S+ is -?[0-9.]"))
    for part in (".ls-curve", ".ls-tangent", ".ls-now"):
        expect(plot.locator(part)).to_have_count(1)
    plot.scroll_into_view_if_needed()
    box, panel = plot.bounding_box(), page.locator("#inspector").bounding_box()
    assert 250 < box["width"] <= panel["width"] and box["height"] > 120
    assert panel["x"] <= box["x"] and box["x"] + box["width"] <= panel["x"] + panel["width"]


def test_mazur_w5_curve_after_backward_and_arrow_after_update(playground, live_server):
    page = playground
    page.goto(live_server + "/?preset=mazur")
    page.locator("#edge-1-0-0").click(force=True)
    expect(page.locator("#inspector")).to_contain_text("Weight w5")
    next_phase(page, "Forward", "Forward pass")
    next_phase(page, "Loss", "Loss:")
    expect(page.locator("#inspector svg.ls-plot")).to_have_count(0)
    next_phase(page, "Backward (output)", "Backward, output layer")
    plot = page.locator("#inspector svg.ls-plot")
    expect(plot.locator(".ls-tangent")).to_have_count(1)
    expect(plot.locator(".ls-arrow")).to_have_count(0)
    expect(plot).to_have_attribute("aria-label", re.compile(r"At w5 = 0\.4 the loss is 0\.29837 .* is 0\.082167\."))
    next_phase(page, "Backward (hidden 1)", "Backward, hidden layer 1")
    next_phase(page, "Update", "Update: every weight moves")
    wait_step(page, 1)
    expect(plot.locator(".ls-arrow")).to_have_count(1)
    expect(plot.locator(".ls-new")).to_have_count(1)
    expect(plot).to_have_attribute("aria-label", re.compile(r"the update moves w5 to 0\.35892"))


def test_the_plot_fits_the_phone_sheet(playground):
    page = playground
    page.set_viewport_size({"width": 390, "height": 844})
    page.click("#btn-step")
    wait_step(page, 1)
    page.locator("svg#network .edge").first.click()
    plot = page.locator("#inspector svg.ls-plot")
    plot.scroll_into_view_if_needed()
    expect(plot).to_be_visible()
    box = plot.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["width"] > 300
