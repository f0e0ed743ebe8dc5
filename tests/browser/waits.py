"""Waits for events, never for durations (issue 22 §7): a test that waits for the page's own request to be answered
and swapped in passes on a slow, busy machine as on a fast one."""
from contextlib import contextmanager
from urllib.parse import urlparse

IDLE = "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"


@contextmanager
def answered(page, path: str, timeout: float = 30_000):
    """After the block, wait until the page's request to `path` (the block made it) is answered and swapped in."""
    with page.expect_response(lambda r: urlparse(r.url).path == path, timeout=timeout):
        yield
    page.wait_for_function(IDLE, timeout=timeout)


@contextmanager
def navigated(page, timeout: float = 30_000):
    """After the block (a click on a link), wait for the new page and its plots."""
    with page.expect_navigation(timeout=timeout):
        yield
    page.wait_for_function("() => (document.getElementById('loss-plot') || {}).data !== undefined", timeout=timeout)
