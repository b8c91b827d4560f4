"""The uploads resource: a large file sent in parts, then completed into a file (modern-fine-tuning.md A9)."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import Request

from emulator.core.blobs import BlobStore
from emulator.core.container import Core
from emulator.core.errors import invalid_request, not_found
from emulator.core.problems import UploadChecker
from emulator.http import params
from emulator.http.deps import authorized
from emulator.http.routing import Router
from emulator.resources.files import UPLOAD_PURPOSES, file_object, store_checked
from emulator.store import FileRecord, Organization
from emulator.store.job_records import UploadPartRecord, UploadRecord

router = Router()
EXPIRES_SECONDS = 3600
MAX_UPLOAD_BYTES = 8 * 10**9
MAX_PART_BYTES = 64 * 2**20


def upload_object(app: Core, upload: UploadRecord) -> dict[str, Any]:
    file = app.store.get_file(upload.organization_id, upload.file_id) if upload.file_id else None
    return {
        "id": upload.id,
        "object": "upload",
        "bytes": upload.bytes,
        "created_at": upload.created_at,
        "filename": upload.filename,
        "purpose": upload.purpose,
        "status": upload.status,
        "expires_at": upload.expires_at,
        "file": file_object(file) if file else None,
    }


def _owned_upload(app: Core, org: Organization, upload_id: str, *, pending: bool = True) -> UploadRecord:
    upload = app.store.get_upload(org.id, upload_id)
    if upload is None:
        raise not_found(f"No such Upload object: {upload_id}", param="upload_id")
    if upload.status == "pending" and app.now_seconds() >= upload.expires_at:
        app.store.set_upload_status(upload.id, "expired")
        upload = app.store.get_upload(org.id, upload_id)
        assert upload is not None
    if pending and upload.status != "pending":
        raise invalid_request(
            f"Upload {upload_id} is {upload.status}; only pending uploads can change.", param="upload_id"
        )
    return upload


@router.post("/uploads")
async def create_upload(request: Request) -> dict[str, Any]:
    app, org = authorized(request)
    body = await params.json_body(request)
    filename = params.string(body, "filename", required=True, min_length=1)
    purpose = params.string(body, "purpose", required=True)
    if purpose not in UPLOAD_PURPOSES:
        raise invalid_request(f"{purpose!r} is not one of {list(UPLOAD_PURPOSES)} - 'purpose'", param="purpose")
    size = params.integer(body, "bytes", minimum=0, maximum=MAX_UPLOAD_BYTES)
    if size is None:
        raise invalid_request("'bytes' is a required property", param="bytes")
    mime_type = params.string(body, "mime_type", required=True)
    assert filename is not None and purpose is not None and mime_type is not None
    now = app.now_seconds()
    upload = UploadRecord(
        app.store.next_id("upload_"),
        org.id,
        filename,
        purpose,
        size,
        mime_type,
        now,
        now + EXPIRES_SECONDS,
        "pending",
        None,
    )
    app.store.insert_upload(upload)
    return upload_object(app, upload)


@router.post("/uploads/{upload_id}/parts")
async def add_upload_part(request: Request, upload_id: str) -> dict[str, Any]:
    app, org = authorized(request)
    upload = _owned_upload(app, org, upload_id)
    try:
        form = await request.form(max_files=1, max_fields=4)
    except MultiPartException as exc:
        raise invalid_request(f"Could not parse the multipart form: {exc.message}") from None
    data = form.get("data")
    if not isinstance(data, UploadFile):
        raise invalid_request("'data' is a required property", param="data")
    content = await data.read()
    if len(content) > MAX_PART_BYTES:
        raise invalid_request("A part can be at most 64 MB.", param="data")
    part = UploadPartRecord(app.store.next_id("part_"), upload.id, app.now_seconds(), len(content))
    app.blobs.write_bytes(part.id, content)
    app.store.insert_upload_part(part)
    return {"id": part.id, "object": "upload.part", "created_at": part.created_at, "upload_id": upload.id}


def _join(blobs: BlobStore, file_id: str, part_ids: list[str], checker: UploadChecker | None) -> None:
    store_checked(blobs, file_id, (chunk for part_id in part_ids for chunk in blobs.read_chunks(part_id)), checker)


@router.post("/uploads/{upload_id}/complete")
async def complete_upload(request: Request, upload_id: str) -> dict[str, Any]:
    app, org = authorized(request)
    upload = _owned_upload(app, org, upload_id)
    part_ids = (await params.json_body(request)).get("part_ids")
    parts = {part.id: part for part in app.store.list_upload_parts(upload.id)}
    if not isinstance(part_ids, list) or not all(isinstance(p, str) and p in parts for p in part_ids):
        raise invalid_request("'part_ids' must list this upload's part ids, in order.", param="part_ids")
    total = sum(parts[p].bytes for p in part_ids)
    if total != upload.bytes:
        raise invalid_request(
            f"The parts hold {total} bytes, but the upload was created for {upload.bytes} bytes.", param="part_ids"
        )
    file_id = app.store.next_id("file-")
    make_checker = app.upload_checkers.get(upload.purpose)
    await run_in_threadpool(_join, app.blobs, file_id, part_ids, make_checker() if make_checker else None)
    record = FileRecord(
        file_id, org.id, upload.purpose, upload.filename, total, app.now_seconds(), "processed", None, False
    )
    with app.store.transaction():
        app.store.insert_file(record)
        app.store.set_upload_status(upload.id, "completed", file_id)
    for part_id in parts:
        app.blobs.delete(part_id)
    return upload_object(app, _owned_upload(app, org, upload_id, pending=False))


@router.post("/uploads/{upload_id}/cancel")
async def cancel_upload(request: Request, upload_id: str) -> dict[str, Any]:
    app, org = authorized(request)
    upload = _owned_upload(app, org, upload_id)
    app.store.set_upload_status(upload.id, "cancelled")
    for part in app.store.list_upload_parts(upload.id):
        app.blobs.delete(part.id)
    return upload_object(app, _owned_upload(app, org, upload_id, pending=False))
