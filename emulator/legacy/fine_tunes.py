"""The legacy fine-tunes resource (§2.6-2.10): create, list, retrieve, cancel and events (also streamed)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from functools import lru_cache
from itertools import chain
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from emulator.core.container import Core
from emulator.core.errors import invalid_request, not_found
from emulator.core.plan import TERMINAL
from emulator.core.preparations import AWAIT_PREPARATION_BYTES, PREPARE_HERE_BYTES
from emulator.core.stream_drops import StreamDrops
from emulator.http import pagination, params
from emulator.http.deps import authorized, stream_drops
from emulator.http.routing import Router
from emulator.http.sse import DONE, event_stream, sse_data
from emulator.legacy.lifecycle import KIND, FineTuneLifecycle
from emulator.legacy.outcomes import outcome_for_new_job
from emulator.legacy.requests import parse_create_fine_tune, refuse_other_formats
from emulator.resources.files import file_object
from emulator.store import EventRecord, FineTuneRecord, NewFineTune, Organization
from emulator.store.records import file_record_of, listed_fine_tune

router = Router()


def event_object(event: EventRecord) -> dict[str, Any]:
    return {
        "object": "fine-tune-event",
        "level": event.level,
        "message": event.message,
        "created_at": event.created_at,
    }


def _file_ids(job: FineTuneRecord) -> list[str]:
    return [*job.training_file_ids, *job.validation_file_ids, *job.result_file_ids]


def fine_tune_object(app: Core, job: FineTuneRecord) -> dict[str, Any]:
    """The FineTune object in the real server's key order, with its events (list items leave them out)."""
    body = _fine_tune_body(vars(job), {r.id: file_object(r) for r in app.store.get_files(_file_ids(job))})
    body["events"] = [event_object(event) for event in app.store.list_events(job.id)]
    return body


def _fine_tune_body(job: Mapping[str, Any], by_id: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The object without its events, from a job's fields by name (a record's or a listed row's); `by_id`: its
    files' objects by id (a file never stored is left out)."""
    return {
        "object": "fine-tune",
        "id": job["id"],
        "hyperparams": job["hyperparams"],
        "organization_id": job["organization_id"],
        "model": job["model"],
        "training_files": [by_id[i] for i in job["training_file_ids"] if i in by_id],
        "validation_files": [by_id[i] for i in job["validation_file_ids"] if i in by_id],
        "result_files": [by_id[i] for i in job["result_file_ids"] if i in by_id],
        "created_at": int(job["created_at"]),
        "updated_at": job["updated_at"],
        "status": job["status"],
        "fine_tuned_model": job["fine_tuned_model"],
    }


# A list renders each job once per version of what it shows: its row and its files' rows are the key, so a
# changed status, result file, hyperparameter, model name or file (processed, deleted) is a new entry, never a
# stale one. About 2.6 KB a job in the two caches (some 40 MB when full); a bigger list renders what it must.
@lru_cache(maxsize=16_384)
def _listed_file_ids(training: str, validation: str, results: str) -> tuple[str, ...]:
    """A listed row's file ids, from its three stored id lists (decoded once per distinct triple)."""
    return (*json.loads(training), *json.loads(validation), *json.loads(results))


@lru_cache(maxsize=16_384)
def _listed_json(row: tuple[Any, ...], files: tuple[tuple[Any, ...] | None, ...]) -> bytes:
    """A list item's JSON: `row` of LISTED_FINE_TUNE_COLUMNS, `files` the rows of its files (None: not stored)."""
    by_id = {file[0]: file_object(file_record_of(file)) for file in files if file is not None}
    return pagination.json_text(_fine_tune_body(listed_fine_tune(row), by_id)).encode()


def lifecycle(app: Core) -> FineTuneLifecycle:
    """The legacy job kind registered with the app's scheduler."""
    return app.scheduler.kind(KIND, FineTuneLifecycle)


def get_owned_fine_tune(app: Core, org: Organization, fine_tune_id: str) -> FineTuneRecord:
    app.catch_up(org)
    job = app.store.get_fine_tune(org.id, fine_tune_id)
    if job is None:
        raise not_found(f"No such fine-tune: {fine_tune_id}", param="id")
    return job


@router.post("/fine-tunes")
async def create_fine_tune(request: Request) -> dict[str, Any]:
    """Stores the job at once, pending in its processing stage; its file is prepared off the event loop.

    A file up to AWAIT_PREPARATION_BYTES is waited for (without blocking the loop), so a small job answers as it
    always did; a bigger one answers while it is still being processed.
    """
    app, org = authorized(request)
    body = await params.json_body(request)
    app.catch_up(org)
    parsed = parse_create_fine_tune(app, org, body)
    refuse_other_formats(app, parsed.training_file)  # reads up to its first example only
    now = app.now()
    job_id = app.store.next_id("ft-")
    # A scripted outcome waits in the plan until the preparation makes the plan around it.
    outcome = outcome_for_new_job(app, org, parsed.suffix, job_id)
    with app.store.transaction():
        app.store.insert_fine_tune(
            NewFineTune(
                id=job_id,
                organization_id=org.id,
                model=parsed.model,
                base_model=parsed.base_model,
                suffix=parsed.suffix,
                hyperparams=parsed.hyperparams,
                training_file_ids=[parsed.training_file.id],
                validation_file_ids=[parsed.validation_file.id] if parsed.validation_file else [],
                created_at=now,
                updated_at=int(now),
                status="pending",
                plan={} if outcome is None else {"outcome": outcome.to_json()},
            )
        )
        app.store.add_event(job_id, f"Created fine-tune: {job_id}", int(now))
    app.scheduler.wake(org.id)
    prepare = lifecycle(app).prepare
    if parsed.training_file.bytes <= PREPARE_HERE_BYTES and prepare is not None:
        stored = app.store.get_fine_tune(org.id, job_id)
        assert stored is not None
        prepare(stored, here=True)
    job = get_owned_fine_tune(app, org, job_id)  # its catch-up starts a bigger file's preparation
    if PREPARE_HERE_BYTES < parsed.training_file.bytes <= AWAIT_PREPARATION_BYTES and prepare is not None:
        await asyncio.wrap_future(prepare(job))
        job = get_owned_fine_tune(app, org, job_id)
    app.notifier.notify()
    return fine_tune_object(app, job)


@router.get("/fine-tunes")
async def list_fine_tunes(request: Request) -> Response:
    """Every job, unpaged (the legacy API never paged it): each rendered from its raw row, once per version."""
    app, org = authorized(request)
    app.catch_up(org)
    with app.store.reading():  # the jobs and their files as of one moment
        rows = app.store.list_fine_tune_rows(org.id)
        ids = [_listed_file_ids(row[4], row[5], row[6]) for row in rows]  # its training, validation, result ids
        files = {file[0]: file for file in app.store.get_file_rows(list(dict.fromkeys(chain.from_iterable(ids))))}
    return pagination.json_list([_listed_json(row, tuple(map(files.get, i))) for row, i in zip(rows, ids, strict=True)])


@router.get("/fine-tunes/{fine_tune_id}")
async def retrieve_fine_tune(request: Request, fine_tune_id: str) -> dict[str, Any]:
    app, org = authorized(request)
    return fine_tune_object(app, get_owned_fine_tune(app, org, fine_tune_id))


@router.post("/fine-tunes/{fine_tune_id}/cancel")
async def cancel_fine_tune(request: Request, fine_tune_id: str) -> dict[str, Any]:
    app, org = authorized(request)
    job = get_owned_fine_tune(app, org, fine_tune_id)
    with app.scheduler.acting(org, app.now()):
        before = lifecycle(app).stop(org, job.id, "cancelled", "Fine-tune cancelled", app.now())
    if before.status in TERMINAL:
        raise invalid_request(f"Cannot cancel a fine-tune that has already {before.status}: {job.id}", param="id")
    return fine_tune_object(app, get_owned_fine_tune(app, org, fine_tune_id))


async def _event_stream(
    app: Core, org: Organization, fine_tune_id: str, drops: StreamDrops | None = None
) -> AsyncIterator[str]:
    """Replay every event, push new ones as they become due, then `data: [DONE]` once the job is over.

    A test-control drop (POST /_emulator/fine-tunes/{id}/drop-streams) ends the stream early, without [DONE].
    """
    last = 0
    generation = drops.opened(fine_tune_id) if drops else 0
    try:
        while not (drops and drops.dropped(fine_tune_id, generation)):
            app.catch_up(org)
            for event in app.store.list_events(fine_tune_id, after_seq=last):
                last = event.seq
                yield sse_data(event_object(event))
            job = app.store.get_fine_tune(org.id, fine_tune_id)
            if job is None or job.status in TERMINAL:
                # The terminal event may have landed between the two reads: send it before [DONE].
                for event in app.store.list_events(fine_tune_id, after_seq=last):
                    yield sse_data(event_object(event))
                yield DONE
                return
            await app.wait_for_change(org)
    finally:
        if drops:
            drops.closed(fine_tune_id)


@router.get("/fine-tunes/{fine_tune_id}/events")
async def list_fine_tune_events(request: Request, fine_tune_id: str) -> dict[str, Any] | StreamingResponse:
    drops = stream_drops(request)
    app, org = authorized(request)
    stream = params.query_flag(request.query_params.get("stream"), "stream")
    job = get_owned_fine_tune(app, org, fine_tune_id)
    if stream:
        return event_stream(_event_stream(app, org, job.id, drops))
    return pagination.unpaged([event_object(event) for event in app.store.list_events(job.id)])
