"""The ASGI application: API under /api/v1, the web app under /."""

from __future__ import annotations

import gc
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from anyio import to_thread
from fastapi import APIRouter, FastAPI

from kith import __version__
from kith.accounts.passwords import Passwords
from kith.api.deps import AppState
from kith.api.errors import install_error_handlers
from kith.api.limits import BodySizeLimit, NulInUrlRefusal
from kith.api.routes import (
    accounts,
    alerts,
    feed,
    friends,
    integrity,
    owntracks,
    partners,
    presence,
    privacy,
    system,
)
from kith.clock import Clock, SystemClock
from kith.config import Settings
from kith.presence.events import InboxEvents
from kith.presence.live import LivePositions, RedisLivePositions
from kith.privacy.retention import start_retention
from kith.storage.engine import Database
from kith.web.pages import install_web

API_PREFIX = "/api/v1"
SWITCH_INTERVAL_S = 0.001


def api_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)
    for module in (
        system,
        accounts,
        friends,
        presence,
        alerts,
        owntracks,
        privacy,
        partners,
        feed,
        integrity,
    ):
        router.include_router(module.router)
    return router


def create_app(settings: Settings, *, clock: Clock | None = None) -> FastAPI:
    """Build the application from settings; nothing is read from the environment here."""
    database = Database(settings)

    events = InboxEvents(settings.redis_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads
        await events.start()
        retention = None
        if settings.retention_interval_minutes:
            retention = start_retention(
                _app.state.kith, interval=timedelta(minutes=settings.retention_interval_minutes)
            )
        try:
            yield
        finally:
            if retention is not None:
                await retention.stop()
            await events.stop()
            database.dispose()

    app = FastAPI(
        title="kith",
        version=__version__,
        summary="A social platform that works for the people who use it.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.kith = AppState(
        settings=settings,
        database=database,
        clock=clock or SystemClock(),
        passwords=Passwords(settings),
        live=RedisLivePositions(settings.redis_url) if settings.redis_url else LivePositions(),
        events=events,
    )
    install_error_handlers(app)
    app.include_router(api_router())
    install_web(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(NulInUrlRefusal)
    return app


def serving_app(settings: Settings) -> FastAPI:
    """The app for a long-running server process.

    Start-up leaves about 160,000 objects (modules, classes, routes, the app) that live as
    long as the process. A full garbage collection walks all of them, 50-150 ms during
    which no request in the process moves; under load such pauses were the slowest alert
    deliveries. ``gc.freeze()`` takes them out of every later collection.

    Threads that want the GIL wait for the holder's slice to end, 5 ms by default: a
    request needing a millisecond of CPU waited several slices behind each busy request.
    1 ms slices (``SWITCH_INTERVAL_S``) halved the alert delivery p99 with 200 clients
    (docs/presence-benchmark.md)."""
    application = create_app(settings)
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    gc.collect()
    gc.freeze()
    return application
