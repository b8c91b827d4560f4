"""The control plane's faults, journal, outcomes and webhook routes under /_emulator (both API generations)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from emulator.core.errors import invalid_request, not_found
from emulator.core.faults import parse_fault
from emulator.core.journal import FILTERS
from emulator.core.outcomes import parse_outcome, parse_rule
from emulator.core.webhooks import JOB_EVENTS
from emulator.http import params
from emulator.http.deps import core
from emulator.http.routing import Router

router = Router(prefix="/_emulator")


@router.post("/faults")
async def create_fault(request: Request) -> dict[str, Any]:
    """One fault rule: `{method, path, status, headers, times, rate, kind, latency_ms, after_chunks, ...}`."""
    app = core(request)
    fault = app.faults.add(parse_fault(await params.json_body(request)))
    return fault.to_json()


@router.get("/faults")
async def list_faults(request: Request) -> dict[str, Any]:
    app = core(request)
    return {"object": "list", "data": [fault.to_json() for fault in app.faults.faults]}


@router.delete("/faults")
async def clear_faults(request: Request) -> dict[str, Any]:
    app = core(request)
    count = len(app.faults.faults)
    app.faults.clear()
    return {"object": "emulator.faults.deleted", "deleted": count}


@router.delete("/faults/{fault_id}")
async def delete_fault(request: Request, fault_id: str) -> dict[str, Any]:
    app = core(request)
    if not app.faults.remove(fault_id):
        raise not_found(f"No such fault: {fault_id}", param="id")
    return {"id": fault_id, "object": "emulator.fault", "deleted": True}


@router.get("/requests")
async def list_requests(request: Request) -> dict[str, Any]:
    """The journal, oldest first; filter by any of method, path (a trailing * for a prefix), status, ..."""
    app = core(request)
    wanted = {name: request.query_params.get(name) for name in FILTERS}
    if wanted["method"]:
        wanted["method"] = wanted["method"].upper()
    return {"object": "list", "data": [entry.to_json() for entry in app.journal.entries(**wanted)]}


@router.delete("/requests")
async def clear_requests(request: Request) -> dict[str, Any]:
    app = core(request)
    app.journal.clear()
    return {"object": "emulator.requests.deleted", "deleted": True}


@router.post("/outcomes")
async def create_outcome(request: Request) -> dict[str, Any]:
    """An outcome for one job (`job`), the next job (`next_job: true`) or a rule (`suffix`, `kind`, ...)."""
    app = core(request)
    body = await params.json_body(request)
    job_id = params.string(body, "job", min_length=1)
    if job_id is None:
        kinds = list(app.scheduler.kinds)
        if body.get("kind") is not None and body["kind"] not in kinds:
            raise invalid_request(f"{body['kind']!r} is not one of {kinds} - 'kind'", param="kind")
        return app.outcomes.add_rule(parse_rule(body)).to_json()
    outcome = parse_outcome({name: value for name, value in body.items() if name != "job"})
    if not app.outcomes.apply_to_job(job_id, outcome):
        raise not_found(f"No such job: {job_id}", param="job")
    app.notifier.notify()
    return {"object": "emulator.outcome", "job": job_id, **outcome.to_json()}


@router.get("/outcomes")
async def list_outcomes(request: Request) -> dict[str, Any]:
    app = core(request)
    return {"object": "list", "data": [rule.to_json() for rule in app.outcomes.rules]}


@router.delete("/outcomes")
async def clear_outcomes(request: Request) -> dict[str, Any]:
    app = core(request)
    app.outcomes.clear()
    return {"object": "emulator.outcomes.deleted", "deleted": True}


@router.post("/webhooks")
async def emit_webhook(request: Request) -> dict[str, Any]:
    """Send one job event now: `{type, job, organization?}` (what a job kind does when a job ends)."""
    app = core(request)
    body = await params.json_body(request)
    event_type = params.string(body, "type", min_length=1, required=True)
    job_id = params.string(body, "job", min_length=1, required=True)
    organization = params.string(body, "organization", app.auth.default.name, min_length=1)
    assert event_type is not None and job_id is not None and organization is not None
    if event_type not in JOB_EVENTS:
        raise invalid_request(f"{event_type!r} is not one of {list(JOB_EVENTS)} - 'type'", param="type")
    event = app.webhooks.emit(organization, event_type, job_id, app.now()) if app.webhooks else None
    if event is None:
        raise invalid_request(
            f"No webhook endpoint for organisation {organization!r}: start ftemu with --webhook-url.", param="type"
        )
    return event
