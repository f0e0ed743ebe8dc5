"""Browser tests: Playwright drives Debian's Chromium against a live uvicorn server on loopback."""
import socket
import threading
import time

import pytest
import uvicorn

from app.main import create_app

from .axe import checked, violations

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium", "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 800}}


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(f"sqlite:///{tmp_path_factory.mktemp('store')}/store.db"), host="127.0.0.1", port=port, log_level="warning",
                                         timeout_graceful_shutdown=1))  # live rooms' streams stay open
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 10
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)


@pytest.fixture
def console_errors(page):
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


@pytest.fixture
def playground(page, live_server, console_errors):
    """The page, loaded and idle; after the test, no console errors may have been logged."""
    page.goto(live_server + "/")
    page.wait_for_function("() => document.getElementById('loss-plot').data !== undefined")
    yield page
    assert console_errors == []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """axe-core after every browser test, on every page of ours the test leaves open (issue 25 §7): a state a test
    reaches is a state a person reaches. A test that failed already is reported as it failed."""
    outcome = yield
    browser = item.funcargs.get("browser")
    if outcome.excinfo is not None or browser is None:
        return
    found = {}
    for context in browser.contexts:
        for page in context.pages:
            if checked(page) and (v := violations(page)):
                found[page.url] = v
    if found:
        outcome.force_exception(AssertionError(f"axe-core found violations on the pages this test left: {found}"))
