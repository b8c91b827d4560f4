"""The legacy test-control routes under /_emulator: fail a fine-tune now, drop its open event streams."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from emulator.core.errors import invalid_request, not_found
from emulator.core.plan import TERMINAL
from emulator.http import params
from emulator.http.deps import core, stream_drops
from emulator.http.routing import Router
from emulator.legacy.fine_tunes import fine_tune_object, lifecycle

router = Router(prefix="/_emulator")


@router.post("/fine-tunes/{fine_tune_id}/fail")
async def fail_fine_tune(request: Request, fine_tune_id: str) -> dict[str, Any]:
    app = core(request)
    body = await params.json_body(request)
    reason = params.string(body, "message", min_length=1)
    job = app.store.find_fine_tune(fine_tune_id)
    organization = app.store.get_organization(job.organization_id) if job else None
    if job is None or organization is None:
        raise not_found(f"No such fine-tune: {fine_tune_id}", param="id")
    message = f"Fine-tune failed: {reason}" if reason else "Fine-tune failed"
    with app.scheduler.acting(organization, app.now()):
        before = lifecycle(app).stop(organization, job.id, "failed", message, app.now(), level="error")
    if before.status in TERMINAL:
        raise invalid_request(f"Cannot fail a fine-tune that has already {before.status}: {job.id}", param="id")
    job = app.store.find_fine_tune(fine_tune_id)
    assert job is not None
    return fine_tune_object(app, job)


@router.post("/fine-tunes/{fine_tune_id}/drop-streams")
async def drop_streams(request: Request, fine_tune_id: str) -> dict[str, Any]:
    """Every event stream of the job open now closes at once without `data: [DONE]` (a dropped link)."""
    app = core(request)
    drops = stream_drops(request)
    if app.store.find_fine_tune(fine_tune_id) is None:
        raise not_found(f"No such fine-tune: {fine_tune_id}", param="id")
    dropped = drops.drop(fine_tune_id)
    app.notifier.notify()
    return {"object": "emulator.drop_streams", "id": fine_tune_id, "dropped": dropped}
