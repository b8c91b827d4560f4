"""Fine-tune events (§2.10): the list form, and the stream's replay, live push, framing and close."""

from __future__ import annotations

import json
import threading
import time

import httpx

from emulator.testing import LiveServer
from tests.conftest import AUTH, fast_settings
from tests.emulator.legacy.lifecycle import advance, create_job, get_job, run_to_end


def _payloads(text: str) -> list[str]:
    blocks = text.split("\n\n")
    assert blocks[-1] == ""
    assert all(block.startswith("data: ") and "\n" not in block for block in blocks[:-1])
    return [block.removeprefix("data: ") for block in blocks[:-1]]


def test_list_fine_tune_events_oldest_first(client: httpx.Client) -> None:
    job = run_to_end(client, create_job(client, model="ada")["id"])
    body = client.get(f"/fine-tunes/{job['id']}/events").json()
    assert list(body) == ["object", "data"] and body["data"] == job["events"]
    assert all(list(event) == ["object", "level", "message", "created_at"] for event in body["data"])


def test_list_fine_tune_events_stream_false_is_the_list(client: httpx.Client) -> None:
    job = create_job(client)
    assert client.get(f"/fine-tunes/{job['id']}/events?stream=false").json()["object"] == "list"


def test_list_fine_tune_events_stream_replays_a_finished_job(client: httpx.Client) -> None:
    job = run_to_end(client, create_job(client, model="ada")["id"])
    response = client.get(f"/fine-tunes/{job['id']}/events", params={"stream": "true"})
    assert response.headers["content-type"].startswith("text/event-stream")
    payloads = _payloads(response.text)
    assert payloads[-1] == "[DONE]"
    assert [json.loads(p) for p in payloads[:-1]] == job["events"]


def test_list_fine_tune_events_stream_pushes_events_as_the_clock_moves() -> None:
    with (
        LiveServer(fast_settings()) as server,
        httpx.Client(base_url=server.base_url, headers=AUTH, timeout=30) as http,
    ):
        job_id = create_job(http, model="ada")["id"]
        received: list[tuple[float, str]] = []

        def follow() -> None:
            with http.stream("GET", f"/fine-tunes/{job_id}/events?stream=true") as response:
                for line in response.iter_lines():
                    if line.startswith("data: "):
                        received.append((time.monotonic(), line[6:]))

        reader = threading.Thread(target=follow)
        reader.start()
        deadline = time.monotonic() + 10
        while not received and time.monotonic() < deadline:
            time.sleep(0.01)
        assert [json.loads(p)["message"] for _, p in received] == [f"Created fine-tune: {job_id}"]
        while get_job(http, job_id)["status"] != "succeeded":
            advance(http, 0.5)
        reader.join(timeout=10)
        assert not reader.is_alive()
        assert received[-1][1] == "[DONE]"
        assert [json.loads(p) for _, p in received[:-1]] == get_job(http, job_id)["events"]


def test_list_fine_tune_events_stream_disconnect_leaves_the_job_running() -> None:
    with (
        LiveServer(fast_settings()) as server,
        httpx.Client(base_url=server.base_url, headers=AUTH, timeout=30) as http,
    ):
        job_id = create_job(http, model="ada")["id"]
        with http.stream("GET", f"/fine-tunes/{job_id}/events?stream=true") as response:
            next(response.iter_lines())
        advance(http, 1.3)
        assert get_job(http, job_id)["status"] in ("pending", "running")
        assert run_to_end(http, job_id)["status"] == "succeeded"
