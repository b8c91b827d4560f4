"""The fine-tuning jobs resource: create, list, retrieve, cancel, pause, resume, events and checkpoints."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from emulator.core.container import Core
from emulator.core.errors import invalid_request, not_found
from emulator.core.preparations import AWAIT_PREPARATION_BYTES, PREPARE_HERE_BYTES
from emulator.http import params
from emulator.http.deps import authorized, json_response
from emulator.http.pagination import page_body, query_integer
from emulator.http.routing import Router
from emulator.store import Organization
from emulator.store.job_records import FineTuningJobRecord, NewFineTuningJob
from emulator.v1.lifecycle import KIND, FineTuningJobLifecycle
from emulator.v1.objects import checkpoint_object, event_object, job_object
from emulator.v1.outcomes import outcome_for_new_job
from emulator.v1.requests import MAX_SEED, parse_create_job

router = Router()
MAX_LIMIT = 100


def lifecycle(app: Core) -> FineTuningJobLifecycle:
    """The modern job kind registered with the app's scheduler."""
    return app.scheduler.kind(KIND, FineTuningJobLifecycle)


def get_owned_job(app: Core, org: Organization, job_id: str) -> FineTuningJobRecord:
    app.catch_up(org)
    job = app.store.get_fine_tuning_job(org.id, job_id)
    if job is None:
        raise not_found(f"No such fine-tuning job: {job_id}", param="fine_tuning_job_id")
    return job


def limit_param(request: Request, default: int) -> int:
    """The page size of a modern list: 1 to MAX_LIMIT, worded like the real validator."""
    return query_integer(request.query_params.get("limit"), "limit", default, minimum=1, maximum=MAX_LIMIT)


def _seed(app: Core, given: int | None) -> int:
    if given is not None:
        return given
    return int.from_bytes(app.store.next_id("").encode()[:8], "big") % (MAX_SEED + 1)


@router.post("/fine_tuning/jobs")
async def create_fine_tuning_job(request: Request) -> dict[str, Any]:
    """Stores the job at once in `validating_files`; its files are read, checked and tokenised off the event loop
    (emulator/v1/preparation.py), except a small one's, which its create prepares; up to a megabyte is waited
    for (without blocking the loop), so a small job answers as it always did."""
    app, org = authorized(request)
    body = await params.json_body(request)
    app.catch_up(org)
    parsed = parse_create_job(app, org, body)
    now = app.now()
    job_id = app.store.next_id("ftjob-")
    outcome = outcome_for_new_job(app, org, parsed.suffix, job_id)  # waits in the plan for the preparation
    with app.store.transaction():
        app.store.insert_fine_tuning_job(
            NewFineTuningJob(
                id=job_id,
                organization_id=org.id,
                model=parsed.model,
                base_model=parsed.base.id,
                training_file=parsed.training_file.id,
                validation_file=parsed.validation_file.id if parsed.validation_file else None,
                suffix=parsed.suffix,
                seed=_seed(app, parsed.seed),
                method=parsed.method,
                metadata=parsed.metadata,
                integrations=parsed.integrations,
                created_at=now,
                status="validating_files",
                plan={"outcome": outcome.to_json()} if outcome else {},
            )
        )
        app.store.add_job_event(job_id, f"Created fine-tuning job: {job_id}", int(now), data={})
        validating = f"Validating training file: {parsed.training_file.id}"
        if parsed.validation_file:
            validating += f" and validation file: {parsed.validation_file.id}"
        app.store.add_job_event(job_id, validating, int(now), data={})
    app.scheduler.wake(org.id)
    prepare = lifecycle(app).prepare
    size = parsed.training_file.bytes + (parsed.validation_file.bytes if parsed.validation_file else 0)
    if size <= PREPARE_HERE_BYTES and prepare is not None:
        stored = app.store.get_fine_tuning_job(org.id, job_id)
        assert stored is not None
        prepare(stored, here=True)
    job = get_owned_job(app, org, job_id)  # its catch-up starts a bigger file's preparation
    if PREPARE_HERE_BYTES < size <= AWAIT_PREPARATION_BYTES and prepare is not None:
        await asyncio.wrap_future(prepare(job))
        job = get_owned_job(app, org, job_id)
    app.notifier.notify()
    return job_object(job)


def _metadata_filter(request: Request) -> dict[str, str] | None:
    """`metadata[k]=v` pairs; `metadata=null` asks for jobs without metadata (returned as {} here)."""
    wanted = {key[9:-1]: value for key, value in request.query_params.items() if key.startswith("metadata[")}
    if request.query_params.get("metadata") == "null":
        return {}
    return wanted or None


def _matches(metadata: str | None, wanted: dict[str, str] | None) -> bool:
    """Whether a job's stored metadata (JSON text) passes the filter; decoded only when there is one."""
    if wanted is None:
        return True
    found = json.loads(metadata) if metadata else None
    if not wanted:
        return not found
    return all((found or {}).get(key) == value for key, value in wanted.items())


@router.get("/fine_tuning/jobs")
async def list_fine_tuning_jobs(request: Request) -> dict[str, Any]:
    """Newest first; `after` a job id: the jobs created before it. Only the page's jobs are read whole."""
    app, org = authorized(request)
    app.catch_up(org)
    limit = limit_param(request, 20)
    wanted = _metadata_filter(request)
    with app.store.reading():  # the ids and the page's jobs as of one moment
        listed = app.store.list_fine_tuning_job_metadata(org.id)
        ids = [job_id for job_id, metadata in listed if _matches(metadata, wanted)]
        after = request.query_params.get("after")
        if after is not None and after in ids:
            ids = ids[ids.index(after) + 1 :]
        page = app.store.get_fine_tuning_jobs(org.id, ids[:limit])
    return page_body([job_object(job) for job in page], len(ids) > limit)


@router.get("/fine_tuning/jobs/{job_id}")
async def retrieve_fine_tuning_job(request: Request, job_id: str) -> dict[str, Any]:
    app, org = authorized(request)
    return job_object(get_owned_job(app, org, job_id))


def _act(request: Request, job_id: str, action: str, refusal: str) -> dict[str, Any]:
    """Cancel, pause or resume now (what was due first); `refusal` words the 400 when the state forbids it."""
    app, org = authorized(request)
    get_owned_job(app, org, job_id)
    with app.scheduler.acting(org, app.now()):
        job = get_owned_job(app, org, job_id)
        done = getattr(lifecycle(app), action)(job, app.now())
    if not done:
        raise invalid_request(refusal.format(id=job_id, status=job.status), param="fine_tuning_job_id")
    return job_object(get_owned_job(app, org, job_id))


@router.post("/fine_tuning/jobs/{job_id}/cancel")
async def cancel_fine_tuning_job(request: Request, job_id: str) -> dict[str, Any]:
    return _act(request, job_id, "cancel", "Job {id} has already {status} and cannot be cancelled.")


@router.post("/fine_tuning/jobs/{job_id}/pause")
async def pause_fine_tuning_job(request: Request, job_id: str) -> dict[str, Any]:
    refusal = "Job {id} cannot be paused: its status is {status} (only running jobs can be paused)."
    return _act(request, job_id, "pause", refusal)


@router.post("/fine_tuning/jobs/{job_id}/resume")
async def resume_fine_tuning_job(request: Request, job_id: str) -> dict[str, Any]:
    refusal = "Job {id} cannot be resumed: its status is {status} (only paused jobs can be resumed)."
    return _act(request, job_id, "resume", refusal)


@router.get("/fine_tuning/jobs/{job_id}/events")
async def list_fine_tuning_events(request: Request, job_id: str) -> JSONResponse:
    """Newest first; `after` an event id: the events before it (what the SDK's cursor pages ask for)."""
    app, org = authorized(request)
    job = get_owned_job(app, org, job_id)
    limit = limit_param(request, 20)
    events = app.store.list_job_events(job.id, after=request.query_params.get("after"), limit=limit + 1)
    return json_response(page_body([event_object(event) for event in events[:limit]], len(events) > limit))


@router.get("/fine_tuning/jobs/{job_id}/checkpoints")
async def list_fine_tuning_checkpoints(request: Request, job_id: str) -> dict[str, Any]:
    app, org = authorized(request)
    job = get_owned_job(app, org, job_id)
    limit = limit_param(request, 10)
    checkpoints = app.store.list_checkpoints(job.id)
    after = request.query_params.get("after")
    ids = [checkpoint.id for checkpoint in checkpoints]
    if after in ids:
        checkpoints = checkpoints[ids.index(after) + 1 :]
    return page_body([checkpoint_object(c) for c in checkpoints[:limit]], len(checkpoints) > limit, with_ids=True)
