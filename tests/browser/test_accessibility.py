"""Keyboard use and axe-core (npm, node_modules/axe-core) on the page: zero violations on the default page, after a
Step with the edge and the node inspector open, with the worksheet open, at every phase of Mazur's detailed step, and
at phone width. conftest.py also runs axe on every page each browser test leaves open."""
import pytest
from playwright.sync_api import expect

from .axe import violations  # noqa: F401 - test_live's and others' import
from .waits import answered


@pytest.fixture
def axe_page(browser, live_server):
    """A page of its own context, at 1280×800, that fails the test on a page error."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert errors == []


def load(page, url: str) -> None:
    page.goto(url)
    page.wait_for_function("() => document.getElementById('loss-plot').data !== undefined")


def wait_step(page, step: int) -> None:
    page.wait_for_function(f"() => document.getElementById('network').dataset.step === '{step}'")


def test_axe_finds_nothing_on_the_default_page_and_after_a_step_with_the_inspector_open(axe_page, live_server):
    load(axe_page, live_server + "/")
    assert violations(axe_page) == []
    axe_page.click("#btn-step")
    wait_step(axe_page, 1)
    axe_page.locator("#edge-0-0-0").click()
    expect(axe_page.locator("#inspector.open")).to_contain_text("Weight x1 → h1.1")
    assert violations(axe_page) == []


def test_axe_finds_nothing_with_the_node_inspector_and_then_the_worksheet_open(axe_page, live_server):
    load(axe_page, live_server + "/")
    axe_page.click("#btn-step")
    wait_step(axe_page, 1)
    axe_page.locator("#node-1-0").focus()
    axe_page.keyboard.press("Enter")
    inspector = axe_page.locator("#inspector.open")
    expect(inspector).to_contain_text("Hidden node h1.1")
    expect(inspector.locator("th", has_text="mean of 10")).to_be_visible()  # the z, a, δ table, headed "row"
    assert violations(axe_page) == []
    with answered(axe_page, "/ui/worksheet"):
        inspector.get_by_role("button", name="Check my calculation").click()
    expect(axe_page.locator("#inspector #worksheet-form")).to_be_visible()
    assert violations(axe_page) == []


def test_axe_finds_nothing_at_any_phase_of_mazurs_detailed_step(axe_page, live_server):
    load(axe_page, live_server + "/?preset=mazur")
    assert violations(axe_page) == []
    for label in ["Loss", "Backward (output)", "Backward (hidden 1)", "Update", "Forward"]:
        axe_page.locator("#btn-step").click()
        expect(axe_page.locator("#btn-step")).to_have_text(f"Step: {label}")
        assert violations(axe_page) == [], label


def test_axe_finds_nothing_at_phone_width(axe_page, live_server):
    axe_page.set_viewport_size({"width": 390, "height": 844})
    load(axe_page, live_server + "/")
    axe_page.click("#btn-step")
    wait_step(axe_page, 1)
    assert violations(axe_page) == []


def test_step_is_within_the_first_five_tab_stops_and_the_skip_link_reaches_the_settings(playground):
    page = playground
    ids = []
    for _ in range(5):
        page.keyboard.press("Tab")
        ids.append(page.evaluate("() => document.activeElement.id || document.activeElement.textContent.trim()"))
    assert "btn-step" in ids, ids
    assert ids[0] == "Skip to the settings"
    page.focus("a.skip-link")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.closest('#settings') !== null")


def test_the_diagram_is_one_tab_stop_walked_with_arrow_keys(playground):
    page = playground
    page.click("#btn-step")
    wait_step(page, 1)
    page.locator("#node-0-0").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.closest('#network') === null")  # one stop, then out
    page.locator("#node-0-0").focus()
    page.keyboard.press("ArrowDown")
    assert page.evaluate("() => document.activeElement.id") == "node-0-1"
    page.keyboard.press("ArrowRight")
    assert page.evaluate("() => document.activeElement.id") == "edge-0-1-0"
    page.keyboard.press("ArrowDown")
    assert page.evaluate("() => document.activeElement.id") == "edge-0-1-1"
    page.keyboard.press("ArrowRight")
    assert page.evaluate("() => document.activeElement.id") == "node-1-1"
    page.keyboard.press("Enter")
    expect(page.locator("#inspector.open")).to_contain_text("node h1.2")
    # The inspector follows the next step, and the diagram's tab stop stays on the same node across the redraw.
    page.click("#btn-step")
    wait_step(page, 2)
    expect(page.locator("#inspector")).to_have_attribute("data-step", "2")
    expect(page.locator("#inspector")).to_contain_text("step 2")
    assert page.locator("#node-1-1").get_attribute("tabindex") == "0"
    page.keyboard.press("Escape")
    expect(page.locator("#inspector")).not_to_have_class("panel insp open")


def test_the_focus_ring_on_an_edge_differs_from_the_changed_most_halo(playground):
    page = playground
    page.click("#btn-step")
    wait_step(page, 1)
    changed = page.locator("#network .edge.changed").first
    halo = changed.locator(".halo").evaluate("el => getComputedStyle(el).stroke")
    changed.focus()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowRight")  # keyboard focus, so :focus-visible applies
    ring = page.evaluate("() => getComputedStyle(document.activeElement.querySelector('.hit, .ring')).stroke")
    assert ring != halo and ring != "none", (ring, halo)
