"""The ASGI app: `uvicorn app.main:app`."""
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app import vendor
from app.api import errors, sessions
from app.web import routes as web
from app.sessions import SessionStore
from app.settings import get_settings


def create_app() -> FastAPI:
    app = FastAPI(
        title="Backprop Playground",
        summary="Train a small neural network one step at a time and inspect every value backpropagation computes.",
        version="0.1.0",
        docs_url=None,  # served by app.vendor from node_modules instead of a CDN
        redoc_url=None,
    )
    app.state.sessions = SessionStore(get_settings().max_sessions)
    errors.install(app)
    app.include_router(sessions.router)
    app.include_router(web.router)
    app.add_exception_handler(web.NoSession, web.on_no_session)
    vendor.mount(app)
    app.mount("/static", StaticFiles(directory=web.ROOT / "static"), name="static")

    @app.get("/healthz", tags=["meta"])
    def healthz() -> dict:
        return {"status": "ok"}

    return app


app = create_app()
