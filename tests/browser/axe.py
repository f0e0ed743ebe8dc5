"""axe-core (npm, node_modules/axe-core) on a page: its violations, as "rule: help — targets" lines.

The script is evaluated through the DevTools protocol, which the page's CSP (script-src 'self') does not govern, so
every test's own page can be checked as it is; conftest.py checks every page a browser test leaves open."""
from pathlib import Path
from urllib.parse import urlparse

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
IDLE = "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"

# Pages that are not ours to mark up: Swagger UI's /docs (the vendor's page, served from node_modules; issue 25 sets
# it aside) and documents that are not HTML (a JSON answer the browser shows as text).
NOT_OURS = ("/docs",)


def violations(page) -> list[str]:
    """axe-core's violations on the page as it is once its htmx requests have settled."""
    page.wait_for_function(IDLE)
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    return page.evaluate("async () => (await axe.run(document)).violations.map("
                         "v => v.id + ': ' + v.help + ' — ' + v.nodes.map(n => n.target.join(' ')).slice(0, 5).join(', '))")


def checked(page) -> bool:
    """Whether the page is one of ours to check: an HTML document of the app, open."""
    if page.is_closed() or not page.url.startswith("http") or urlparse(page.url).path in NOT_OURS:
        return False
    return page.evaluate("() => document.contentType") == "text/html"
