"""create_app(settings) -> a fresh FastAPI app: the Core on app.state, each job kind, the routers, one envelope."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI

from emulator.core.blobs import BlobStore
from emulator.core.clock import Clock, SystemClock, VirtualClock
from emulator.core.container import Core
from emulator.core.notifier import Notifier
from emulator.core.orgs import Authenticator, load_keys
from emulator.core.queue import JobKind, Scheduler
from emulator.http.fast import FastRoutes
from emulator.http.handlers import install_error_handlers
from emulator.http.headers import OpenAIHeaders
from emulator.inference.tuned import TunedModels
from emulator.legacy import completions, fine_tunes
from emulator.legacy import control as legacy_control
from emulator.legacy.lifecycle import FineTuneLifecycle
from emulator.legacy.preparation import Preparations
from emulator.legacy.training_file import TrainingFileChecker
from emulator.resources import control, files, models
from emulator.resources.limits import DeclaredSize
from emulator.settings import Settings
from emulator.store import FineTuneRecord, Store

# FastAPI releases with built-in OpenTelemetry look for configured providers on every request; an emulator
# emits no spans, so it turns that off where the option exists.
_NO_TELEMETRY: dict[str, Any] = (
    {"telemetry": {"tracing": False, "metrics": False, "logs": False}}
    if "telemetry" in inspect.signature(FastAPI.__init__).parameters
    else {}
)


def _open_clock(settings: Settings, store: Store, clock: Clock | None) -> Clock:
    if clock is not None:
        return clock
    if settings.clock == "system":
        return SystemClock()
    saved = store.get_meta("clock")
    return VirtualClock(float(saved) if saved else settings.clock_start_seconds)


def build_core(settings: Settings, clock: Clock | None = None) -> Core:
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
    tuned_models = TunedModels(directory=None if settings.memory else settings.data_path / "indexes")

    def index(job: FineTuneRecord, examples: list[tuple[str, str]]) -> None:
        tuned_models.build(store, job.organization_id, job.id, job.model, own=examples)

    legacy = FineTuneLifecycle(store, blobs)
    legacy.prepare = Preparations(store, blobs, settings.speed_factor, lambda *_: notifier.notify(), index).start
    kinds: list[JobKind] = [legacy]
    scheduler = Scheduler(kinds, settings.training_slots, notifier.notify, store.transaction)
    core = Core(settings, store, blobs, clock, auth, scheduler, notifier, tuned_models=tuned_models)
    core.upload_checkers["fine-tune"] = TrainingFileChecker
    return core


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """A fresh emulator. The store opens here, so the app also works where no lifespan runs."""
    settings = settings or Settings(memory=True)
    state = build_core(settings, clock)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        state.close()

    app = FastAPI(title="ftemu", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None, **_NO_TELEMETRY)
    app.state.core = state
    install_error_handlers(app)
    # Most-called first: routes are matched in order, and matching was a third of GET /v1/models.
    routers: tuple[APIRouter, ...] = (models.router, files.router, fine_tunes.router, completions.router)
    for router in routers:
        app.include_router(router, prefix="/v1")
    app.include_router(control.router)
    app.include_router(legacy_control.router)
    included = [*(("/v1", router) for router in routers), ("", control.router), ("", legacy_control.router)]
    app.add_middleware(FastRoutes, api=app, routers=included)
    app.add_middleware(DeclaredSize, core=state)
    app.add_middleware(OpenAIHeaders)
    return app
