"""create_app(settings) -> a fresh FastAPI app: state on app.state, routers, headers, one error envelope."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emulator import completions, control, files, fine_tunes, models
from emulator.auth import Authenticator, load_keys
from emulator.blobs import BlobStore
from emulator.clock import Clock, SystemClock, VirtualClock, monotonic
from emulator.errors import install_error_handlers
from emulator.services import Notifier, Services
from emulator.settings import Settings
from emulator.store import Store
from emulator.training import Trainer

OPENAI_VERSION = "2020-10-01"


class OpenAIHeaders:
    """Adds openai-organization, openai-version, openai-processing-ms and x-request-id to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = monotonic()
        request_id = "req_" + uuid.uuid4().hex

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                organization = scope.get("state", {}).get("organization")
                if organization is not None:
                    headers.append((b"openai-organization", organization.name.encode()))
                headers += [
                    (b"openai-version", OPENAI_VERSION.encode()),
                    (b"openai-processing-ms", str(int((monotonic() - started) * 1000)).encode()),
                    (b"x-request-id", request_id.encode()),
                ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _open_clock(settings: Settings, store: Store, clock: Clock | None) -> Clock:
    if clock is not None:
        return clock
    if settings.clock == "system":
        return SystemClock()
    saved = store.get_meta("clock")
    return VirtualClock(float(saved) if saved else settings.clock_start_seconds)


def build_services(settings: Settings, clock: Clock | None = None) -> Services:
    if settings.memory:
        store, blobs = Store(None, seed=settings.seed), BlobStore(None)
    else:
        settings.data_path.mkdir(parents=True, exist_ok=True)
        store = Store(settings.data_path / "ftemu.sqlite3", seed=settings.seed)
        blobs = BlobStore(settings.data_path / "files")
    clock = _open_clock(settings, store, clock)
    keys = load_keys(Path(settings.keys)) if settings.keys else None
    auth = Authenticator(store, settings.organization, keys, int(clock.now()))
    notifier = Notifier()
    trainer = Trainer(store, blobs, settings.training_slots, notifier.notify)
    return Services(settings, store, blobs, clock, auth, trainer, notifier)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """A fresh emulator. The store opens here, so the app also works where no lifespan runs."""
    settings = settings or Settings(memory=True)
    state = build_services(settings, clock)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        state.close()

    app = FastAPI(title="ftemu", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.services = state
    app.state.auth = state.auth
    install_error_handlers(app)
    # Most-called first: routes are matched in order, and matching was a third of GET /v1/models.
    for module in (models, files, fine_tunes, completions):
        router: Any = module.router
        app.include_router(router, prefix="/v1")
    app.include_router(control.router)
    app.add_middleware(OpenAIHeaders)
    return app
