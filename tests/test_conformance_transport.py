"""conformance.transport's sync transport called from a thread whose event loop is running (a sync helper
inside async code): plain and streamed responses alike, as from a thread with none."""

from __future__ import annotations

import asyncio
import re

import httpx2

from conformance.transport import SyncASGITransport
from emulator import create_app
from tests.conftest import AUTH, fast_settings

IDS = re.compile(r"(ft-|file-|curie:ft-)[A-Za-z0-9-]+")
LINES = b"".join(b'{"prompt": "q%d ->", "completion": " a%d\\n"}\n' % (i, i) for i in range(20))


def follow_a_job(http: httpx2.Client) -> list[str]:
    """Upload, create an instant legacy job, and read its event stream to the end: the `data:` lines (ids and
    names made of ids as `*`)."""
    file_id = http.post("/files", files={"file": ("t.jsonl", LINES)}, data={"purpose": "fine-tune"}).json()["id"]
    job = http.post("/fine-tunes", json={"training_file": file_id, "model": "curie"}).json()
    with http.stream("GET", f"/fine-tunes/{job['id']}/events", params={"stream": "true"}) as response:
        assert response.status_code == 200
        return [IDS.sub("*", line) for line in response.iter_lines() if line.startswith("data:")]


def test_sync_requests_inside_a_running_loop_run_in_the_transports_thread() -> None:
    transport = SyncASGITransport(create_app(fast_settings(speed="instant")))
    http = httpx2.Client(transport=transport, base_url="http://ftemu/v1", headers=AUTH)
    outside = follow_a_job(http)

    async def inside() -> list[str]:
        return follow_a_job(http)

    assert asyncio.run(inside()) == outside
    assert outside[-1] == "data: [DONE]" and len(outside) > 5
    assert transport._thread is not None  # the running loop's requests went to the transport's own thread
    http.close()
    assert transport._thread is None
