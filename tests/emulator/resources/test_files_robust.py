"""Files under stress: the storage limit under concurrent uploads, crash leftovers swept at start, downloads racing
deletes, and filenames with control characters."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import httpx2
import pytest
from starlette.applications import Starlette

from emulator import Settings, create_app
from emulator.core.blobs import DiskBlobStore
from emulator.core.quota import StorageFull, StorageLedger
from emulator.resources.files import content_disposition
from emulator.testing import LiveServer
from tests.conftest import AUTH, assert_error, capitals, fast_settings, in_process, jsonl, upload


def _padded(size: int) -> bytes:
    """A valid training file of exactly `size` bytes."""
    head = jsonl(capitals(1))
    filler = b'{"prompt": "pad ->", "completion": " ' + b"x" * (size - len(head) - 42) + b'\\n"}\n'
    data = head + filler
    assert len(data) == size, len(data)
    return data


def test_storage_ledger_reserves_under_one_lock() -> None:
    ledger = StorageLedger()
    with ledger.reserve("org", 600, lambda: 0, 1000):
        with pytest.raises(StorageFull) as full, ledger.reserve("org", 600, lambda: 0, 1000):
            pass
        assert full.value.used == 600
    with ledger.reserve("org", 1000, lambda: 0, 1000):
        pass
    assert ledger.pending == {"org": 0}


def test_concurrent_uploads_cannot_pass_the_storage_limit(make_app: Callable[..., Starlette]) -> None:
    """20 simultaneous 200 KB uploads under a 1 MB limit: at most five are stored (all 20 were, before)."""
    app = make_app(storage_limit=1_000_000)
    data = _padded(200_000)

    async def run() -> list[int]:
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://ftemu/v1", headers=AUTH) as http:

            async def one() -> int:
                files = {"file": ("big.jsonl", data)}
                response = await http.post("/files", files=files, data={"purpose": "fine-tune"})
                return response.status_code

            return await asyncio.gather(*(one() for _ in range(20)))

    statuses = asyncio.run(run())
    assert sorted(set(statuses)) == [200, 400] and statuses.count(200) == 5
    stored = app.state.core.store.stored_bytes(app.state.core.store.list_organizations()[0].id)
    assert stored == 1_000_000


def test_concurrent_uploads_over_uvicorn_hold_the_limit() -> None:
    data = _padded(200_000)
    with LiveServer(fast_settings(storage_limit=1_000_000)) as server:
        statuses: list[int] = []

        def one() -> None:
            with httpx.Client(base_url=server.base_url, headers=AUTH, timeout=60) as http:
                files = {"file": ("big.jsonl", data)}
                statuses.append(http.post("/files", files=files, data={"purpose": "fine-tune"}).status_code)

        threads = [threading.Thread(target=one) for _ in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with httpx.Client(base_url=server.base_url, headers=AUTH) as http:
            total = sum(f["bytes"] for f in http.get("/files").json()["data"])
    assert statuses.count(200) == 5 and total == 1_000_000


def test_start_sweeps_upload_temp_files_and_orphan_blobs(tmp_path: Path) -> None:
    settings = Settings(data_dir=str(tmp_path), clock="manual", seed=1)
    app = create_app(settings)
    http = in_process(app)
    kept = upload(http, capitals(2))["id"]
    gone = upload(http, capitals(3))["id"]
    http.delete(f"/files/{gone}")
    app.state.core.close()
    blobs = tmp_path / "files"
    (blobs / ".upload-abc123").write_bytes(b"x" * 1000)  # an upload killed mid-copy
    (blobs / "file-orphan000000000000000000").write_bytes(b"y" * 10)  # a blob whose row never committed
    (blobs / gone).write_bytes(b"z")  # a deleted file's blob left by a kill between the two steps
    past = time.time() - 60  # written before a crash: the sweep leaves alone what this process may be writing
    for leftover in (".upload-abc123", "file-orphan000000000000000000", gone, kept):
        os.utime(blobs / leftover, (past, past))
    again = create_app(settings)
    try:
        assert again.state.core.sweeping is not None
        again.state.core.sweeping.result(timeout=30)  # on a worker thread: start-up does not wait for it
        assert sorted(path.name for path in blobs.iterdir()) == [kept]
        assert in_process(again).get(f"/files/{kept}/content").content == jsonl(capitals(2))
    finally:
        again.state.core.close()


def test_download_of_a_vanished_blob_is_404_not_a_cut_body(client: httpx.Client, app: Starlette) -> None:
    """The blob is opened before the 200 is sent: a delete that got there first is a 404 envelope."""
    http = in_process(app)
    file_id = upload(http, capitals(3))["id"]
    app.state.core.blobs.delete(file_id)  # the race's worst moment: the row is still live, the blob is gone
    assert_error(http.get(f"/files/{file_id}/content"), 404, f"No such File object: {file_id}", param="id")


def test_download_racing_a_delete_gets_every_byte() -> None:
    data = _padded(3_000_000)
    with LiveServer(fast_settings()) as server, httpx.Client(base_url=server.base_url, headers=AUTH) as http:
        file_id = upload(http, data)["id"]
        with http.stream("GET", f"/files/{file_id}/content") as response:
            assert response.headers["content-length"] == str(len(data))
            chunks = response.iter_raw(65536)
            parts = [next(chunks)]
            assert http.delete(f"/files/{file_id}").status_code == 200
            parts += list(chunks)
        assert b"".join(parts) == data


@pytest.mark.parametrize(
    ("filename", "header"),
    [
        ("train.jsonl", 'attachment; filename="train.jsonl"'),
        ('a"b\\c.jsonl', 'attachment; filename="abc.jsonl"'),
        ("evil\r\nSet-Cookie: x=1.jsonl", "attachment; filename*=UTF-8''evil%0D%0ASet-Cookie%3A%20x%3D1.jsonl"),
        ("tab\there\x00.jsonl", "attachment; filename*=UTF-8''tab%09here%00.jsonl"),
        ("del\x7f.jsonl", "attachment; filename*=UTF-8''del%7F.jsonl"),
        ("zażółć.jsonl", "attachment; filename*=UTF-8''za%C5%BC%C3%B3%C5%82%C4%87.jsonl"),
    ],
)
def test_content_disposition_never_carries_control_characters(filename: str, header: str) -> None:
    assert content_disposition(filename) == header


def test_download_with_a_control_character_filename(client: httpx.Client) -> None:
    """Clients percent-encode such names; a hand-written multipart body carries them raw."""
    body = (
        b'--XyZ\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nfine-tune\r\n'
        b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a\x01b\x1f.jsonl"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n" + jsonl(capitals(2)) + b"\r\n--XyZ--\r\n"
    )
    created = client.post("/files", content=body, headers={"content-type": "multipart/form-data; boundary=XyZ"})
    assert created.json()["filename"] == "a\x01b\x1f.jsonl"
    file_id = created.json()["id"]
    response = client.get(f"/files/{file_id}/content")
    assert response.status_code == 200 and response.content == jsonl(capitals(2))
    assert response.headers["content-disposition"] == "attachment; filename*=UTF-8''a%01b%1F.jsonl"


def test_sweep_leaves_blobs_newer_than_the_store_and_live_ones(tmp_path: Path) -> None:
    """A blob written after the store opened (an upload in progress) stays even without a row yet."""
    blobs = DiskBlobStore(tmp_path)
    for name in ("file-live", "file-orphan", ".upload-old"):
        (tmp_path / name).write_bytes(b"x")
        os.utime(tmp_path / name, (time.time() - 60, time.time() - 60))
    (tmp_path / "file-uploading").write_bytes(b"y")
    assert blobs.sweep(lambda: {"file-live"}, time.time()) == (2, 2)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["file-live", "file-uploading"]
