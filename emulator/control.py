"""The test-control plane under /_emulator: the clock, a clean slate, and scripted failures."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request

from emulator import params
from emulator.clock import VirtualClock
from emulator.errors import invalid_request, not_found
from emulator.fine_tunes import fine_tune_object
from emulator.services import Services, services
from emulator.stream_drops import StreamDrops, stream_drops
from emulator.training import TERMINAL

router = APIRouter(prefix="/_emulator")


def clock_object(app: Services) -> dict[str, Any]:
    now = app.now()
    return {
        "object": "emulator.clock",
        "kind": "manual" if app.clock.manual else "system",
        "now": now,
        "iso": datetime.fromtimestamp(now, UTC).isoformat().replace("+00:00", "Z"),
        "speed": app.settings.speed,
    }


@router.get("/clock")
async def get_clock(app: Services = Depends(services)) -> dict[str, Any]:
    return clock_object(app)


@router.post("/clock/advance")
async def advance_clock(request: Request, app: Services = Depends(services)) -> dict[str, Any]:
    body = await params.json_body(request)
    seconds = params.number(body, "seconds", minimum=0)
    if seconds is None:
        raise invalid_request("'seconds' is a required property", param="seconds")
    if not isinstance(app.clock, VirtualClock):
        raise invalid_request("The clock is not manual: start ftemu with --clock manual to move it.", param="seconds")
    app.clock.advance(seconds)
    app.store.set_meta("clock", repr(app.clock.now()))
    for organization in app.store.list_organizations():
        app.catch_up(organization)
    app.notifier.notify()
    return clock_object(app)


@router.post("/reset")
async def reset(app: Services = Depends(services)) -> dict[str, Any]:
    """Forget every file, job and model; a manual clock goes back to its start."""
    app.store.reset()
    app.blobs.clear()
    app.trainer.forget()
    if isinstance(app.clock, VirtualClock):
        app.clock = VirtualClock(app.settings.clock_start_seconds)
        app.store.set_meta("clock", repr(app.clock.now()))
    app.notifier.notify()
    return {"object": "emulator.reset", "ok": True, "clock": clock_object(app)}


@router.post("/fine-tunes/{fine_tune_id}/fail")
async def fail_fine_tune(fine_tune_id: str, request: Request, app: Services = Depends(services)) -> dict[str, Any]:
    body = await params.json_body(request)
    reason = params.string(body, "message", min_length=1)
    job = app.store.find_fine_tune(fine_tune_id)
    organization = app.store.get_organization(job.organization_id) if job else None
    if job is None or organization is None:
        raise not_found(f"No such fine-tune: {fine_tune_id}", param="id")
    message = f"Fine-tune failed: {reason}" if reason else "Fine-tune failed"
    before = app.trainer.stop(organization, job.id, "failed", message, app.now(), level="error")
    if before.status in TERMINAL:
        raise invalid_request(f"Cannot fail a fine-tune that has already {before.status}: {job.id}", param="id")
    job = app.store.find_fine_tune(fine_tune_id)
    assert job is not None
    return fine_tune_object(app, job)


@router.post("/fine-tunes/{fine_tune_id}/drop-streams")
async def drop_streams(
    fine_tune_id: str, app: Services = Depends(services), drops: StreamDrops = Depends(stream_drops)
) -> dict[str, Any]:
    """Every event stream of the job open now closes at once without `data: [DONE]` (a dropped link)."""
    if app.store.find_fine_tune(fine_tune_id) is None:
        raise not_found(f"No such fine-tune: {fine_tune_id}", param="id")
    dropped = drops.drop(fine_tune_id)
    app.notifier.notify()
    return {"object": "emulator.drop_streams", "id": fine_tune_id, "dropped": dropped}
