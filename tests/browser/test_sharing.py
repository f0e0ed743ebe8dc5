"""Share links, setup links in the address bar, downloads and import, in a real browser."""
import json
import re

import numpy as np
from playwright.sync_api import expect

from .test_playground import assert_diagram_matches_api, session_state, wait_step

SPIRAL = "/?dataset=spiral&layers=2,8,8,1&activation=tanh&lr=0.03&seed=7"


def test_share_gives_a_link_that_opens_a_private_copy(playground, live_server, browser):
    page = playground
    for n in (1, 2, 3):
        page.get_by_role("button", name="Step", exact=True).click()
        wait_step(page, n)
    teacher = session_state(page, live_server)
    page.get_by_role("button", name="Share", exact=True).click()
    link = page.locator("#share-url")
    expect(link).to_have_value(re.compile(r"^http://127\.0\.0\.1:\d+/s/[A-Za-z0-9_-]{16}$"))
    expect(page.get_by_text("Link to step 3")).to_be_visible()
    url = link.input_value()

    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy link").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == url

    student = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        other = student.new_page()
        other.goto(url)
        expect(other).to_have_url(re.compile(r"^http://127\.0\.0\.1:\d+/(\?.*)?$"))
        expect(other.locator("#message")).to_contain_text("your own copy of a shared network, at step 3")
        wait_step(other, 3)
        mine = assert_diagram_matches_api(other, live_server)
        assert mine["id"] != teacher["id"] and mine["weights"] == teacher["weights"]
        other.get_by_role("button", name="Step", exact=True).click()
        wait_step(other, 4)
    finally:
        student.close()
    assert session_state(page, live_server)["step"] == 3  # the teacher's session is untouched


def test_the_address_bar_keeps_the_setup_link_current(page, live_server, console_errors):
    page.goto(live_server + SPIRAL)
    page.wait_for_function("() => document.getElementById('loss-plot').data !== undefined")
    expect(page).to_have_url(re.compile(r"dataset=spiral&layers=2,8,8,1&activation=tanh.*lr=0\.03.*seed=7"))
    page.locator("#f-learning_rate").fill("0.1")
    page.locator("#f-learning_rate").press("Enter")  # the form posts on change
    expect(page).to_have_url(re.compile(r"lr=0\.1(&|$)"))
    page.get_by_role("button", name="Step", exact=True).click()
    wait_step(page, 1)
    before = session_state(page, live_server)
    page.reload()  # the same setup: the training is kept
    wait_step(page, 1)
    assert session_state(page, live_server)["weights"] == before["weights"]
    assert console_errors == []


def test_downloads_and_import(playground, live_server, tmp_path):
    page = playground
    page.get_by_role("button", name="Step", exact=True).click()
    wait_step(page, 1)
    with page.expect_download() as svg:
        page.get_by_role("button", name="Diagram (SVG)").click()
    assert svg.value.suggested_filename == "network-step-1.svg"
    text = open(svg.value.path()).read()
    assert text.startswith("<?xml") and 'xmlns="http://www.w3.org/2000/svg"' in text and "stroke:" in text
    with page.expect_download() as png:
        page.get_by_role("button", name="Loss curve (PNG)").click()
    assert png.value.suggested_filename == "loss-curve-step-1.png"
    assert open(png.value.path(), "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    with page.expect_download() as saved:
        page.get_by_role("link", name="State (JSON)").click()
    path = tmp_path / "state.json"
    saved.value.save_as(path)
    assert json.loads(path.read_text())["step"] == 1
    with page.expect_download() as npz:
        page.get_by_role("link", name="Weights (.npz)").click()
    weights = np.load(npz.value.path())
    assert np.array_equal(weights["W1"], np.array(session_state(page, live_server)["weights"][0]))

    page.get_by_role("button", name="Reset", exact=True).click()
    wait_step(page, 0)
    page.locator("#import-file").set_input_files(str(path))
    page.get_by_role("button", name="Import", exact=True).click()
    wait_step(page, 1)
    expect(page.locator("#message")).to_contain_text("Imported state.json: step 1.")
    assert_diagram_matches_api(page, live_server)

    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something else"}')
    page.locator("#import-file").set_input_files(str(bad))
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#error-import")).to_contain_text("format")
    wait_step(page, 1)


def test_copy_as_python_shows_both_snippets(playground):
    page = playground
    page.get_by_role("button", name="Copy as Python").click()
    expect(page.locator("#snippet-numpy")).to_contain_text("import numpy as np")
    expect(page.locator("#snippet-pytorch")).to_contain_text("import torch")
    expect(page.get_by_role("button", name="Copy NumPy")).to_be_visible()
