"""Browser libraries installed by `npm ci`, served from node_modules (never committed, never from a CDN)."""
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from app.ratelimit import Limited

ROOT = Path(__file__).resolve().parents[1]
NODE_MODULES = ROOT / "node_modules"
PACKAGES = {
    "htmx": "htmx.org/dist",
    "htmx-sse": "htmx-ext-sse/dist",  # server-sent events for live rooms
    "idiomorph": "idiomorph/dist",  # morphs a frame's panels in place (static/js/frames.js)
    "plotly": "plotly.js-basic-dist-min",
    "swagger-ui": "swagger-ui-dist",
}


def mount(app: FastAPI) -> None:
    for name, folder in PACKAGES.items():
        app.mount(f"/vendor/{name}", StaticFiles(directory=NODE_MODULES / folder, check_dir=False), name=name)

    templates = Jinja2Templates(directory=ROOT / "templates")

    @app.get("/docs", dependencies=[Limited(free="Swagger's page: files from node_modules")], include_in_schema=False, response_class=HTMLResponse)
    def swagger_ui(request: Request) -> HTMLResponse:
        # FastAPI's own page starts Swagger UI with an inline script, which the CSP forbids.
        return templates.TemplateResponse(request, "docs.html", {"title": f"{app.title} API"})
