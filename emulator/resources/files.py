"""The files resource: upload (streamed and checked), list, retrieve, delete and download."""

from __future__ import annotations

import os
from collections.abc import Iterable
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from emulator.core.blobs import CHUNK, BlobStore, chunks_of
from emulator.core.container import Core
from emulator.core.errors import APIError, invalid_request, not_found
from emulator.core.problems import Problem, UploadChecker
from emulator.core.quota import StorageFull
from emulator.http import pagination
from emulator.http.deps import authorized
from emulator.http.routing import Router
from emulator.store import FileRecord, Organization
from emulator.store.records import file_record_of

router = Router()
# The current API's purposes (modern-fine-tuning.md A9); only fine-tune files are checked at upload.
UPLOAD_PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
# GET /v1/files: `limit` is 1 to 10,000 and defaults to 10,000 (the current spec); newest first by default.
FILES_PAGE_LIMIT = 10_000
# Uploads up to this size are checked and stored on the event loop (well under a millisecond of work); bigger
# ones on a worker thread.
COPY_HERE_BYTES = 64_000


def file_object(record: FileRecord) -> dict[str, Any]:
    """The file object in the real server's key order."""
    return {
        "object": "file",
        "id": record.id,
        "purpose": record.purpose,
        "filename": record.filename,
        "bytes": record.bytes,
        "created_at": record.created_at,
        "status": record.status,
        "status_details": record.status_details,
    }


def storage_limit_error(limit: int, used: int) -> APIError:
    return invalid_request(
        "Currently, the size of all the files uploaded by one organization can be up to "
        f"{_human_bytes(limit)}. Your organization already stores {used} bytes; delete files to make room.",
        param="file",
    )


def _human_bytes(count: int) -> str:
    for unit, size in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if count >= size and count % size == 0:
            return f"{count // size} {unit}"
    return f"{count} bytes"


def refuse(problem: Problem | None) -> None:
    """A training file's Problem is the upload's 400, worded as the API words it."""
    if problem is not None:
        raise APIError(400, problem.message)


def _spooled_size(upload: UploadFile) -> int:
    if upload.size is not None:
        return upload.size
    return upload.file.seek(0, os.SEEK_END)


def store_checked(blobs: BlobStore, file_id: str, chunks: Iterable[bytes], checker: UploadChecker | None) -> int:
    """Write the chunks as the file's blob, checking as it goes; nothing is kept on failure. Returns its size."""
    with blobs.writer() as writer:
        for chunk in chunks:
            writer.write(chunk)
            if checker:
                refuse(checker.feed(chunk))
        if checker:
            refuse(checker.finish())
        writer.commit(file_id)
        return writer.size


def _copy_upload(upload: UploadFile, blobs: BlobStore, file_id: str, checker: UploadChecker | None) -> int:
    """Copy the spooled upload into its blob (store_checked)."""
    source = upload.file
    source.seek(0)
    return store_checked(blobs, file_id, iter(lambda: source.read(CHUNK), b""), checker)


async def _read_form(request: Request) -> tuple[Any, Any]:
    try:
        form = await request.form(max_files=1, max_fields=16)
    except MultiPartException as exc:
        raise invalid_request(f"Could not parse the multipart form: {exc.message}") from None
    return form.get("file"), form.get("purpose")


def _check_purpose(purpose: Any) -> str:
    if purpose is None:
        raise invalid_request("'purpose' is a required property", param="purpose")
    if not isinstance(purpose, str) or purpose not in UPLOAD_PURPOSES:
        shown = purpose if isinstance(purpose, str) else "<file>"
        raise invalid_request(f"'{shown}' is not one of {list(UPLOAD_PURPOSES)} - 'purpose'", param="purpose")
    return purpose


@router.post("/files")
async def create_file(request: Request) -> dict[str, Any]:
    app, org = authorized(request)
    upload, purpose_field = await _read_form(request)
    if not isinstance(upload, UploadFile):
        raise invalid_request("'file' is a required property", param="file")
    purpose = _check_purpose(purpose_field)
    limit = app.settings.storage_limit
    make_checker = app.upload_checkers.get(purpose)
    checker = make_checker() if make_checker else None
    try:
        # The bytes are reserved before they are written, so concurrent uploads cannot pass the limit together.
        with app.storage.reserve(org.id, _spooled_size(upload), lambda: app.store.stored_bytes(org.id), limit) as held:
            file_id = app.store.next_id("file-")
            if _spooled_size(upload) <= COPY_HERE_BYTES:  # less work than the hand-over to a worker thread
                size = _copy_upload(upload, app.blobs, file_id, checker)
            else:
                size = await run_in_threadpool(_copy_upload, upload, app.blobs, file_id, checker)
            record = FileRecord(
                id=file_id,
                organization_id=org.id,
                purpose=purpose,
                filename=upload.filename or "file",
                bytes=size,
                created_at=app.now_seconds(),
                status="uploaded",
                status_details=None,
                deleted=False,
            )
            try:
                held.settle(lambda: app.store.insert_file(record))
            except BaseException:
                app.blobs.delete(file_id)
                raise
    except StorageFull as full:
        raise storage_limit_error(limit, full.used) from None
    return file_object(record)


def get_owned_file(app: Core, org: Organization, file_id: str) -> FileRecord:
    """The organisation's live file, or the real 404."""
    app.store.process_uploaded_files(org.id)
    record = app.store.get_file(org.id, file_id)
    if record is None:
        raise not_found(f"No such File object: {file_id}", param="id")
    return record


@lru_cache(maxsize=32_768)
def listed_file_json(row: tuple[Any, ...]) -> bytes:
    """A listed file's JSON, from its raw row of FILE_COLUMNS: encoded once per version of the row."""
    return pagination.json_text(file_object(file_record_of(row))).encode()


@router.get("/files")
async def list_files(request: Request) -> Response:
    """A page in SQL (cursor, order, purpose); each file rendered from its raw row, once per version."""
    app, org = authorized(request)
    app.catch_up(org)
    app.store.process_uploaded_files(org.id)
    query = pagination.page_query(request.query_params, default_limit=FILES_PAGE_LIMIT, max_limit=FILES_PAGE_LIMIT)
    rows = app.store.page_file_rows(
        org.id, after=query.after, limit=query.limit + 1, order=query.order, purpose=request.query_params.get("purpose")
    )
    if rows is None:
        raise pagination.unknown_cursor(query.after)
    shown = rows[: query.limit]
    first, last = (shown[0][0], shown[-1][0]) if shown else (None, None)
    items = [listed_file_json(row) for row in shown]
    return pagination.json_list(items, first_id=first, last_id=last, has_more=len(rows) > query.limit)


@router.get("/files/{file_id:path}/content")
async def download_file(request: Request, file_id: str) -> StreamingResponse:
    app, org = authorized(request)
    app.catch_up(org)
    record = get_owned_file(app, org, file_id)
    try:
        # Opened before answering: a delete racing this download is a 404, not a 200 with a cut body.
        handle = app.blobs.open(record.id)
    except FileNotFoundError:
        raise not_found(f"No such File object: {file_id}", param="id") from None
    size = handle.seek(0, os.SEEK_END)
    handle.seek(0)
    return StreamingResponse(
        chunks_of(handle),
        media_type="application/octet-stream",
        headers={"content-disposition": content_disposition(record.filename), "content-length": str(size)},
    )


def content_disposition(filename: str) -> str:
    """`filename="..."` for printable ASCII names, else RFC 5987 `filename*=` (control characters never go raw)."""
    if filename.isascii() and filename.isprintable():
        return f'attachment; filename="{filename.replace(chr(34), "").replace(chr(92), "")}"'
    return f"attachment; filename*=UTF-8''{quote(filename, safe='', errors='replace')}"


@router.get("/files/{file_id:path}")
async def retrieve_file(request: Request, file_id: str) -> dict[str, Any]:
    app, org = authorized(request)
    app.catch_up(org)
    return file_object(get_owned_file(app, org, file_id))


@router.delete("/files/{file_id:path}")
async def delete_file(request: Request, file_id: str) -> dict[str, Any]:
    app, org = authorized(request)
    app.catch_up(org)
    record = get_owned_file(app, org, file_id)
    app.store.delete_file(record.id)
    app.blobs.delete(record.id)
    return {"object": "file", "id": record.id, "deleted": True}
