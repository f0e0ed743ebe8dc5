"""Screenshots of the page as a newcomer sees it, for review and for the README and docs/.

Starts the app (as bench/server.py does) and drives Debian's Chromium headless through Playwright.
  --review DIR   viewport shots at 1280x800 and 390x844 of: the default page after one Step, the inspector open on
                 an edge, Mazur's detailed step at each phase, the spiral preset, and Predict on the house prices and on
                 XOR; the Matrix form on Mazur's step and on a batch; a live room's presenter and follower after a
                 revealed question; full-page shots at 390x844.
  --readme       rewrites docs/screenshot.png, docs/share.png, docs/mazur.png, and docs/live-presenter.png with
                 docs/live-follower.png (the follower on a phone).
Run: `.venv/bin/python bench/screens.py --review /tmp/shots` or `.venv/bin/python bench/screens.py --readme`.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from playwright.sync_api import sync_playwright  # noqa: E402

from browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from server import running_server  # noqa: E402

DOCS = Path(__file__).resolve().parents[1] / "docs"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def ready(page) -> None:
    page.wait_for_function("() => document.getElementById('loss-plot').data !== undefined")
    page.wait_for_timeout(300)


def step(page, times: int = 1) -> None:
    for _ in range(times):
        before = page.get_attribute("#network", "data-step")
        page.click("#btn-step")
        page.wait_for_function(f"() => document.getElementById('network').dataset.step !== '{before}'")
    page.wait_for_timeout(250)


def open_first_edge(page) -> None:
    page.locator("svg#network .edge").first.click()
    page.wait_for_timeout(300)


def predict(page, *values: str) -> None:
    for k, value in enumerate(values):
        page.fill(f"#f-input_{k}", value)
    page.click("#predict-form button[type=submit]")
    page.wait_for_selector("#predict-answer .predict-for")
    page.wait_for_timeout(400)


def predictions(page, url: str, out: Path, name: str) -> None:
    """The house prices in dollars after a step and a prediction, and the XOR table's class and probabilities."""
    page.goto(url + "/?preset=house-price")
    ready(page)
    step(page)
    predict(page, "100", "3")
    page.screenshot(path=str(out / f"{name}-house-price.png"))
    page.locator("#predict-panel").screenshot(path=str(out / f"{name}-house-predict.png"))
    page.goto(url + "/?preset=xor")
    ready(page)
    predict(page, "0", "1")
    page.locator("#predict-panel").screenshot(path=str(out / f"{name}-xor-predict.png"))
    page.locator("#output-panel").screenshot(path=str(out / f"{name}-xor-output.png"))


def matrix_form(page, url: str, out: Path, name: str) -> None:
    """The Matrix form panel: Mazur's step, whole, and a step of the spiral's 6-8-8-8-1 network on a batch of 10 rows
    (its matrices cut to 6 rows and columns of nodes and 4 of the batch's rows)."""
    page.goto(url + "/?preset=mazur")
    ready(page)
    page.check("#matrix-form-toggle")
    page.wait_for_selector("#matrix-form .mx-panel")
    for _ in range(5):
        page.click("#btn-step")
        page.wait_for_timeout(300)
    page.locator("#matrix-form").scroll_into_view_if_needed()
    page.screenshot(path=str(out / f"{name}-matrix-mazur.png"))
    page.locator("#matrix-form").screenshot(path=str(out / f"{name}-matrix-mazur-panel.png"))
    page.goto(url + "/?preset=spiral")
    ready(page)
    page.check("#matrix-form-toggle")
    page.wait_for_selector("#matrix-form .mx-panel")
    step(page)
    page.locator("#matrix-form").scroll_into_view_if_needed()
    page.screenshot(path=str(out / f"{name}-matrix-batch.png"))
    page.locator("#matrix-form").screenshot(path=str(out / f"{name}-matrix-batch-panel.png"))
    page.uncheck("#matrix-form-toggle")
    page.wait_for_selector("#matrix-form .mx-panel", state="detached")


def live_room(url: str, browser, viewport: dict, follower_viewport: dict):
    """A presenter (Present, three steps, a question answered by a follower, then Reveal) and its follower: the two
    pages, at the reveal."""
    presenter = browser.new_page(viewport=viewport)
    presenter.goto(url + "/")
    ready(presenter)
    presenter.click("#btn-present")
    presenter.wait_for_selector(".live-code")
    code = presenter.inner_text(".live-code").replace(" ", "")
    follower = browser.new_page(viewport=follower_viewport)
    follower.goto(f"{url}/live/{code}")
    ready(follower)
    for n in range(1, 4):
        presenter.click("#btn-step")
        follower.wait_for_function(f"() => document.getElementById('live-status').dataset.step === '{n}'")
    # A δ question is asked once a detailed step's Forward shows the class the coming step's numbers.
    with presenter.expect_response(lambda r: r.url.endswith("/ui/detailed")):
        presenter.check("#detailed")
    with presenter.expect_response(lambda r: r.url.endswith("/ui/phase")):
        presenter.click("#btn-step")
    largest = presenter.locator("#live-ask optgroup[label='The largest |δ|'] option").first.get_attribute("value")
    presenter.select_option("#live-ask", largest)
    presenter.click("#btn-ask")
    follower.wait_for_selector(".live-choices button")
    follower.locator(".live-choices button").nth(1).click()
    presenter.wait_for_selector("#live-count:has-text('1 answer')")
    presenter.click("#btn-reveal")
    follower.wait_for_selector(".live-bars")
    follower.wait_for_function("() => document.getElementById('live-status').dataset.step === '4'")
    follower.wait_for_selector("#live-mine:has-text('You answered')")
    presenter.evaluate("() => window.scrollTo(0, 0)")  # the page as the projector shows it
    presenter.wait_for_timeout(300)
    follower.wait_for_timeout(300)
    return presenter, follower


def review(url: str, out: Path, browser) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = browser.new_page(viewport=viewport)
        page.goto(url + "/")
        ready(page)
        page.screenshot(path=str(out / f"{name}-fresh.png"))
        step(page)
        page.screenshot(path=str(out / f"{name}-step.png"))
        page.screenshot(path=str(out / f"{name}-step-full.png"), full_page=True)
        open_first_edge(page)
        page.screenshot(path=str(out / f"{name}-inspector.png"))
        page.goto(url + "/?preset=mazur")
        ready(page)
        page.screenshot(path=str(out / f"{name}-mazur-0.png"))
        for n in range(1, 5):
            page.click("#btn-step")
            page.wait_for_timeout(600)
            page.screenshot(path=str(out / f"{name}-mazur-{n}.png"))
        page.goto(url + "/?preset=spiral")
        ready(page)
        page.click("#detailed")
        page.wait_for_timeout(400)
        for n in range(1, 7):
            page.click("#btn-step")
            page.wait_for_timeout(600)
        page.screenshot(path=str(out / f"{name}-spiral-update.png"))
        predictions(page, url, out, name)
        matrix_form(page, url, out, name)
        page.close()
        presenter, follower = live_room(url, browser, viewport, viewport)
        presenter.screenshot(path=str(out / f"{name}-live-presenter.png"))
        follower.screenshot(path=str(out / f"{name}-live-follower.png"))
        follower.screenshot(path=str(out / f"{name}-live-follower-full.png"), full_page=True)
        presenter.close()
        follower.close()
    print(f"screenshots in {out}")


def readme(url: str, browser) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(url + "/")
    ready(page)
    for _ in range(6):
        page.click("#btn-epoch")
        page.wait_for_timeout(150)
    step(page)
    open_first_edge(page)
    page.screenshot(path=str(DOCS / "screenshot.png"))
    page.keyboard.press("Escape")  # the inspector covers the results column, where Share is
    page.locator("#share-panel button", has_text="Share").first.click()
    page.wait_for_selector("#share-url")
    page.locator("#share-panel").scroll_into_view_if_needed()
    page.locator("#share-panel").screenshot(path=str(DOCS / "share.png"))
    page.goto(url + "/?preset=mazur")
    ready(page)
    for _ in range(3):
        page.click("#btn-step")
        page.wait_for_timeout(600)
    page.locator("svg#network .edge").nth(4).click(force=True)
    page.wait_for_timeout(300)
    page.screenshot(path=str(DOCS / "mazur.png"))
    page.close()
    presenter, follower = live_room(url, browser, DESKTOP, PHONE)
    presenter.screenshot(path=str(DOCS / "live-presenter.png"))
    follower.screenshot(path=str(DOCS / "live-follower.png"))
    presenter.close()
    follower.close()
    print(f"README and docs/ screenshots written to {DOCS}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--review", type=Path, help="directory for review screenshots")
    parser.add_argument("--readme", action="store_true", help="rewrite the README's and the docs' screenshots in docs/")
    args = parser.parse_args()
    if not args.review and not args.readme:
        parser.error("give --review DIR, --readme or both")
    with running_server() as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        if args.review:
            review(url, args.review, browser)
        if args.readme:
            readme(url, browser)
        browser.close()


if __name__ == "__main__":
    main()
