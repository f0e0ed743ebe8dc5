"""The pages work under the Content-Security-Policy: no inline script, no eval (a violation is a console error)."""
from playwright.sync_api import expect


def test_api_docs_render_under_the_csp(page, live_server, console_errors):
    response = page.goto(live_server + "/docs")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.get_by_text("/api/sessions/{session_id}/step").first).to_be_visible()
    assert console_errors == []


def test_the_playground_trains_plays_and_exports_under_the_csp(playground):
    page = playground
    page.get_by_role("button", name="Play", exact=True).click()
    page.wait_for_function("() => +document.getElementById('network').dataset.step >= 5")
    page.get_by_role("button", name="Pause", exact=True).click()
    page.get_by_role("button", name="Copy as Python").click()
    expect(page.locator("#snippet-numpy")).to_contain_text("import numpy")
    # the playground fixture fails the test on any console error, CSP violations included
