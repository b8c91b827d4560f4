"""The test-control plane under /_emulator shared by both API generations: the clock and a clean slate."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request

from emulator.core.clock import LATEST, MAX_ADVANCE, VirtualClock
from emulator.core.container import Core
from emulator.core.errors import invalid_request
from emulator.http import params
from emulator.http.deps import core
from emulator.http.routing import Router

router = Router(prefix="/_emulator")


def clock_object(app: Core) -> dict[str, Any]:
    now = app.now()
    return {
        "object": "emulator.clock",
        "kind": "manual" if app.clock.manual else "system",
        "now": now,
        "iso": datetime.fromtimestamp(now, UTC).isoformat().replace("+00:00", "Z"),
        "speed": app.settings.speed,
    }


@router.get("/clock")
async def get_clock(request: Request) -> dict[str, Any]:
    app = core(request)
    return clock_object(app)


@router.post("/clock/advance")
async def advance_clock(request: Request) -> dict[str, Any]:
    app = core(request)
    body = await params.json_body(request)
    seconds = params.number(body, "seconds", minimum=0, maximum=MAX_ADVANCE)
    if seconds is None:
        raise invalid_request("'seconds' is a required property", param="seconds")
    if not isinstance(app.clock, VirtualClock):
        raise invalid_request("The clock is not manual: start ftemu with --clock manual to move it.", param="seconds")
    if app.clock.now() + seconds > LATEST:
        raise invalid_request("The clock cannot move past 9999-12-31T23:59:59Z.", param="seconds")
    app.clock.advance(seconds)
    app.store.set_meta("clock", repr(app.clock.now()))
    for organization in app.store.list_organizations():
        app.catch_up(organization)
    app.notifier.notify()
    return clock_object(app)


@router.post("/reset")
async def reset(request: Request) -> dict[str, Any]:
    """Forget every file, job and model, fault, outcome rule and journal entry; a manual clock goes back."""
    app = core(request)
    app.store.reset()
    app.faults.clear()
    app.outcomes.clear()
    app.journal.clear()
    app.blobs.clear()
    app.scheduler.forget()
    app.chat_models.clear()
    if isinstance(app.clock, VirtualClock):
        app.clock = VirtualClock(app.settings.clock_start_seconds)
        app.store.set_meta("clock", repr(app.clock.now()))
    app.notifier.notify()
    return {"object": "emulator.reset", "ok": True, "clock": clock_object(app)}
