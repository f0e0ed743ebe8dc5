"""The Matrix form panel in a real browser: its toggle works from the keyboard, the panel follows each phase and
step with the numbers the diagram has, and it fits a phone's width."""
from playwright.sync_api import expect


def ready(page) -> None:
    page.wait_for_function("() => document.getElementById('loss-plot').data !== undefined")


def first_value(page, matrix: str) -> float:
    return float(page.locator(f'#matrix-form [data-matrix="{matrix}"] td[data-value]').first.get_attribute("data-value"))


def test_the_toggle_opens_the_panel_from_the_keyboard_and_it_follows_each_phase(playground, live_server):
    page = playground
    page.goto(live_server + "/?preset=mazur")
    ready(page)
    toggle = page.get_by_role("checkbox", name="Matrix form")
    panel = page.locator("#matrix-form .mx-panel")
    expect(toggle).not_to_be_checked()
    expect(page.locator("#matrix-form")).to_be_hidden()
    toggle.focus()
    page.keyboard.press("Space")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("press Step")
    expect(toggle).to_be_checked()
    expect(toggle).to_be_focused()  # the answer redraws the toolbar: the focus stays on the toggle

    page.locator("#btn-step").click()  # Forward
    expect(panel.locator('[data-eq="forward-2"]')).to_be_visible()
    expect(panel.locator('[data-eq="delta-2"]')).to_have_count(0)
    expect(panel).to_contain_text("nothing is applied yet")
    assert first_value(page, "a1") == float(page.locator("#node-1-0").get_attribute("data-activation"))
    for label in ("Loss", "Backward (output)"):
        expect(page.locator("#btn-step")).to_have_text(f"Step: {label}")
        page.locator("#btn-step").click()
    expect(panel.locator('[data-eq="delta-2"]')).to_be_visible()
    expect(panel.locator('[data-eq="delta-1"]')).to_have_count(0)
    for label in ("Backward (hidden 1)", "Update"):
        expect(page.locator("#btn-step")).to_have_text(f"Step: {label}")
        page.locator("#btn-step").click()
    expect(panel).to_have_attribute("data-step", "1")
    expect(panel).not_to_contain_text("nothing is applied yet")
    # The panel's numbers are the diagram's, which are the engine's: ∂E/∂w5 and δ_o1 of Mazur's article.
    assert first_value(page, "gradW2") == float(page.locator("#edge-1-0-0").get_attribute("data-grad"))
    assert abs(first_value(page, "gradW2") - 0.082167041) < 1e-9
    assert abs(first_value(page, "delta2") - 0.138498562) < 1e-9
    expect(panel.locator('table[data-matrix="W2"] caption')).to_have_text("W₂ 2×2")

    toggle.focus()
    page.keyboard.press("Space")
    expect(page.locator("#matrix-form")).to_be_hidden()
    expect(panel).to_have_count(0)


def test_the_panel_of_a_big_network_fits_a_phone(page, live_server, console_errors):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server + "/?preset=spiral")
    ready(page)
    page.get_by_role("checkbox", name="Matrix form").check()
    panel = page.locator("#matrix-form .mx-panel")
    expect(panel).to_be_visible()
    page.locator("#btn-step").click()
    expect(panel).to_have_attribute("data-step", "1")
    expect(panel.locator('table[data-matrix="W2"] caption')).to_have_text("W₂ 8×8 · showing 6×6")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # Every matrix is inside the panel, or inside an equation that scrolls within it.
    outside = page.evaluate("""() => {
        const box = document.querySelector('#matrix-form .mx-panel').getBoundingClientRect();
        return [...document.querySelectorAll('#matrix-form .mx-terms')].filter(t => {
            const r = t.getBoundingClientRect();
            return r.left < box.left || r.right > box.right;
        }).length;
    }""")
    assert outside == 0
    assert console_errors == []
