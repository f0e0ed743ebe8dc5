"""The page's script: native ES modules under static/js/, loaded by one module entry after htmx and Plotly."""
import re
from pathlib import Path

STATIC_JS = Path(__file__).resolve().parents[1] / "static" / "js"
IMPORT = re.compile(r'^import\b[^"\']*["\'](\./[\w.]+)["\'];$', re.M)


def imported(source: str) -> list[str]:
    """The relative modules one module imports (only `./name.js`: no build step resolves anything else)."""
    return [path[2:] for path in IMPORT.findall(source)]


def test_the_page_loads_one_module_after_the_libraries_it_uses(client):
    for text in (client.get("/").text, client.get("/s/AAAAAAAAAAAAAAAA").text):
        scripts = re.findall(r"<script\b[^>]*\bsrc=\"([^\"]+)\"[^>]*>", text)
        tags = re.findall(r"<script\b[^>]*\bsrc=[^>]*>", text)
        assert scripts[-1] == "/static/js/main.js" and 'type="module"' in tags[-1]
        # Deferred classic scripts and modules run in document order: htmx and Plotly are globals by then.
        assert {"/vendor/htmx/htmx.min.js", "/vendor/plotly/plotly-basic.min.js"} <= set(scripts[:-1])
        assert all(" defer" in tag for tag in tags[:-1])


def test_every_module_is_served_as_javascript_under_the_csp_and_each_is_imported(client):
    seen, todo = set(), ["main.js"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        r = client.get(f"/static/js/{name}")
        assert r.status_code == 200, name
        assert r.headers["content-type"].split(";")[0] in ("text/javascript", "application/javascript"), name
        assert "script-src 'self';" in r.headers["content-security-policy"]
        todo += imported(r.text)
    assert seen == {p.name for p in STATIC_JS.glob("*.js")}  # no module left out, none missing


def test_no_module_imports_one_that_imports_it_back():
    graph = {p.name: imported(p.read_text()) for p in STATIC_JS.glob("*.js")}

    def reaches(start: str, goal: str, path=()) -> bool:
        return any(n == goal or (n not in path and reaches(n, goal, (*path, n))) for n in graph[start])

    assert [name for name in graph if reaches(name, name)] == []
