"""create_app(settings) -> a fresh Starlette app: the Core on app.state, each job kind, the routes, one envelope."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from concurrent.futures import Future
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette

from emulator.core.background import Background
from emulator.core.blobs import BlobStore, DiskBlobStore, MemoryBlobStore
from emulator.core.clock import Clock, SystemClock, VirtualClock, valid_moment
from emulator.core.container import Core
from emulator.core.control_file import load_control_file
from emulator.core.faults import FaultRegistry
from emulator.core.journal import Journal
from emulator.core.notifier import Notifier
from emulator.core.orgs import Authenticator, load_keys
from emulator.core.queue import JobKind, Scheduler
from emulator.core.webhooks import open_webhooks
from emulator.http.faults import ControlPlane
from emulator.http.handlers import ERROR_HANDLERS
from emulator.http.middleware import Guard
from emulator.http.routing import Router, Routes, route_table
from emulator.inference.chat_knowledge import ChatModels
from emulator.inference.tuned import TunedModels
from emulator.legacy import completions, fine_tunes
from emulator.legacy import control as legacy_control
from emulator.legacy.lifecycle import FineTuneLifecycle
from emulator.legacy.outcomes import not_ready_check, outcome_applier
from emulator.legacy.preparation import Preparations
from emulator.legacy.training_file import TrainingFileChecker, parse_line
from emulator.resources import control, faults, files, models, uploads
from emulator.resources.limits import DeclaredSize
from emulator.settings import Settings
from emulator.store import Store
from emulator.v1 import chat
from emulator.v1 import checkpoints as fine_tuning_checkpoints
from emulator.v1 import jobs as fine_tuning_jobs
from emulator.v1 import outcomes as job_outcomes
from emulator.v1.lifecycle import FineTuningJobLifecycle
from emulator.v1.preparation import JobPreparations
from emulator.v1.training_file import AnyFormatChecker


def _open_clock(settings: Settings, store: Store, clock: Clock | None) -> Clock:
    if clock is not None:
        return clock
    if settings.clock == "system":
        return SystemClock()
    saved = store.get_meta("clock")
    # A data directory written before the clock was bounded may hold nan, inf or 1e300: start from the setting.
    moment = float(saved) if saved else settings.clock_start_seconds
    return VirtualClock(moment if valid_moment(moment) else settings.clock_start_seconds)


def _sweep(store: Store, blobs: DiskBlobStore, opened: float) -> None:
    """Crash leftovers (interrupted uploads, blobs without a live file) written before the store was opened go,
    on a worker thread: start-up does nothing proportional to the store."""
    removed, freed = blobs.sweep(store.live_file_ids, opened)
    if removed:
        log = logging.getLogger("ftemu")
        log.warning("removed %d leftover blob files (%d bytes) from %s", removed, freed, blobs.root)


def build_core(settings: Settings, clock: Clock | None = None) -> Core:
    sweeping: Future[None] | None = None
    blobs: BlobStore
    if settings.memory:
        store, blobs = Store(None, seed=settings.seed), MemoryBlobStore()
    else:
        settings.data_path.mkdir(parents=True, exist_ok=True)
        store = Store(settings.data_path / "ftemu.sqlite3", seed=settings.seed)
        on_disk = blobs = DiskBlobStore(settings.data_path / "files")
        sweeping = Background("ftemu-sweep").submit(_sweep, store, on_disk, time.time())
    clock = _open_clock(settings, store, clock)
    keys = load_keys(Path(settings.keys)) if settings.keys else None
    auth = Authenticator(store, settings.organization, keys, int(clock.now()))
    notifier = Notifier()
    journal = Journal()
    webhooks = open_webhooks(settings, journal, clock)
    indexes = None if settings.memory else settings.data_path / "indexes"
    tuned_models, chat_models = TunedModels(directory=indexes), ChatModels(directory=indexes)

    legacy = FineTuneLifecycle(store, blobs, webhooks)
    legacy.prepare = Preparations(store, blobs, settings.speed_factor, lambda *_: notifier.notify(), tuned_models).start
    modern = FineTuningJobLifecycle(store, blobs, webhooks)
    modern.prepare = JobPreparations(
        store, blobs, settings.speed_factor, lambda _: notifier.notify(), chat_models
    ).start
    kinds: list[JobKind] = [legacy, modern]
    scheduler = Scheduler(
        kinds, settings.training_slots, notifier.notify, store.transaction, changes=lambda: store.changes
    )
    core = Core(
        settings,
        store,
        blobs,
        clock,
        auth,
        scheduler,
        notifier,
        tuned_models=tuned_models,
        chat_models=chat_models,
        journal=journal,
        webhooks=webhooks,
        sweeping=sweeping,
    )
    # Fine-tune files may hold chat, preference or reinforcement lines too; other lines get the legacy verdict.
    core.upload_checkers["fine-tune"] = lambda: AnyFormatChecker(parse_line, TrainingFileChecker().empty)
    # The test-control plane: faults drawn from the seed, outcomes each job kind can re-plan, a control file.
    core.faults = FaultRegistry(settings.seed)
    core.outcomes.appliers += [outcome_applier(core), job_outcomes.outcome_applier(core)]
    core.outcomes.not_ready_checks += [not_ready_check(core), job_outcomes.not_ready_check(core)]
    if settings.control_file:
        load_control_file(Path(settings.control_file), core.faults, core.outcomes)
    return core


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> Starlette:
    """A fresh emulator. The store opens here, so the app also works where no lifespan runs."""
    settings = settings or Settings(memory=True)
    state = build_core(settings, clock)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        state.close()

    app = Starlette(lifespan=lifespan, exception_handlers=ERROR_HANDLERS)
    app.state.core = state
    # Most-called first: routes are matched in order.
    routers: tuple[Router, ...] = (
        models.router,
        files.router,
        fine_tunes.router,
        completions.router,
        chat.router,
        fine_tuning_jobs.router,
        fine_tuning_checkpoints.router,
        uploads.router,
    )
    controls = (control.router, legacy_control.router, faults.router)
    app.state.routes = route_table([*(("/v1", router) for router in routers), *(("", router) for router in controls)])
    # Outermost last: the control plane (OpenAI headers, faults, journal), then Guard (a crash is a 500 that
    # keeps the connection), the declared-size check, and the routes (what none matches: Starlette's 404).
    app.add_middleware(Routes, table=app.state.routes, handlers=ERROR_HANDLERS)
    app.add_middleware(DeclaredSize, core=state)
    app.add_middleware(Guard)
    app.add_middleware(ControlPlane, core=state)
    return app
