"""The ASGI app: `uvicorn app.main:app`."""
import gc
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from app import vendor
from app.body_limit import BodyLimit
from app.ratelimit import MAX_RUNNING, Buckets, CpuBuckets, Limited, Metering, Turns
from app.security import SecurityHeaders
from app.api import errors, practice, sessions, snapshots
from app.api import loss_slice
from app.api import live as api_live
from app import live as live_rooms
from app.live.streams import StreamSlots
from app.web import configure, deps as web_deps, exercises, lessons, page, practice as web_practice, probes, sharing, training, upload
from app.web import focus, matrix_panel, play_stream
from app.web import live as web_live, live_drawing, live_events
from app.web.render import ROOT
from app.store import open_store
from app.settings import get_settings


def create_app(store: str | None = None) -> FastAPI:
    """The app; `store` overrides the PLAYGROUND_STORE setting. The store opens when the app starts."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        settings = get_settings()
        app.state.sessions = open_store(store or settings.store, settings.max_sessions, settings.session_ttl)
        app.state.live = live_rooms.open_live(app.state.sessions, store or settings.store, settings.live_ttl,
                                              live_drawing, settings.max_followers_per_address,
                                              StreamSlots.from_settings(settings.max_streams_per_address))
        # The objects made while starting live for good: keep them out of the garbage collector's passes
        # (bench/README.md says what it saves).
        gc.collect()
        gc.freeze()
        yield
        await live_rooms.close_live(app.state.live)
        app.state.sessions.close()

    app = FastAPI(
        lifespan=lifespan,
        title="Backprop Playground",
        summary="Train a small neural network one step at a time and inspect every value backpropagation computes.",
        version="0.1.0",
        docs_url=None,  # served by app.vendor from node_modules instead of a CDN
        redoc_url=None,
    )
    settings = get_settings()
    scale = settings.rate_limit_scale
    app.state.rate_limits = Buckets(scale) if scale > 0 else None
    app.state.cpu_budgets = CpuBuckets(scale) if scale > 0 else None
    app.state.turns = Turns(MAX_RUNNING)  # requests of one session that run at once (app/ratelimit/declared.py)
    app.add_middleware(Metering, cpu=app.state.cpu_budgets)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes,
                       larger={"/api/sessions/import": settings.max_import_bytes, "/ui/import": settings.max_import_bytes},
                       seconds=settings.body_seconds)
    app.add_middleware(SecurityHeaders)  # added last, so outermost: the 429s carry the headers too
    errors.install(app, error_page=page.error_page)

    async def on_http_error(request, exc):  # a page's own GET gets a page, everything else JSON
        shown = web_deps.error_page(request, exc.status_code, exc.detail, getattr(exc, "headers", None))
        return shown if shown is not None else await errors.on_http_error(request, exc)

    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.include_router(sessions.router)
    app.include_router(snapshots.router)
    app.include_router(loss_slice.router)
    app.include_router(practice.router)
    app.include_router(api_live.router)
    for web in (page, training, configure, probes, upload, sharing, web_practice, exercises, lessons):
        app.include_router(web.router)
    app.include_router(matrix_panel.router)  # the Matrix form toggle
    app.include_router(focus.router)  # the focus row
    app.include_router(web_live.router)  # live rooms: Present, polls, and the followers' /live/{code}
    app.include_router(live_events.router)  # ...and their event stream
    app.include_router(play_stream.router)  # Play's frames, pushed as the page draws them
    app.add_exception_handler(web_deps.NoSession, web_deps.on_no_session)
    vendor.mount(app)
    app.mount("/static", StaticFiles(directory=ROOT / "static"), name="static")

    @app.get("/healthz", dependencies=[Limited(free="answers ok, nothing more")], tags=["meta"])
    def healthz() -> dict:
        return {"status": "ok"}

    return app


app = create_app()
