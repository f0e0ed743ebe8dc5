"""Browser libraries installed by `npm ci`, served from node_modules (never committed, never from a CDN)."""
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

NODE_MODULES = Path(__file__).resolve().parents[1] / "node_modules"
PACKAGES = {
    "htmx": "htmx.org/dist",
    "plotly": "plotly.js-basic-dist-min",
    "swagger-ui": "swagger-ui-dist",
}


def mount(app: FastAPI) -> None:
    for name, folder in PACKAGES.items():
        app.mount(f"/vendor/{name}", StaticFiles(directory=NODE_MODULES / folder, check_dir=False), name=name)

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url, title=f"{app.title} API",
            swagger_js_url="/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="data:,",
        )
