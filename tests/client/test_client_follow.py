"""follow() survives the server cutting the event stream mid-job: no event repeated, none lost; the fine-tuning
jobs' polling follow gives up after its failed polls in a row, and at once on an error no retry can fix."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from client import Client
from client.errors import InternalServerError, NotFoundError
from client.types import FineTuneEvent
from emulator.testing import LiveServer
from tests.conftest import KEY, capitals, fast_settings, in_process, jsonl
from tests.emulator.v1.support import chat_lines

FIRST_STAGE = 2.05  # simulated seconds at speed 60: processed, queued and started, no epoch yet


@pytest.fixture
def server() -> Iterator[LiveServer]:
    with LiveServer(fast_settings()) as live:
        yield live


def start_job(client: Client, model: str = "ada") -> str:
    file_id = client.files.create(jsonl(capitals(20)), filename="train.jsonl")["id"]
    return client.fine_tunes.create(file_id, model=model)["id"]


def test_follow_fine_tune_reconnects_after_a_dropped_stream(server: LiveServer) -> None:
    streams: list[str] = []
    http = httpx.Client(timeout=30, event_hooks={"request": [lambda r: streams.append(str(r.url))]})
    control = httpx.Client(base_url=server.root_url + "/_emulator", timeout=30)
    with Client(server.base_url, KEY, http=http) as client:
        job_id = start_job(client)
        control.post("/clock/advance", json={"seconds": FIRST_STAGE}).raise_for_status()
        so_far = len(client.fine_tunes.list_events(job_id)["data"])
        assert 1 < so_far < 6
        events = client.fine_tunes.follow(job_id)
        seen: list[FineTuneEvent] = [next(events) for _ in range(so_far)]
        dropped = control.post(f"/fine-tunes/{job_id}/drop-streams").json()
        assert dropped == {"object": "emulator.drop_streams", "id": job_id, "dropped": 1}
        control.post("/clock/advance", json={"seconds": 3600}).raise_for_status()
        seen += list(events)
        assert seen == client.fine_tunes.list_events(job_id)["data"]
        assert seen[-1]["message"] == "Fine-tune succeeded"
    assert sum("stream=true" in url for url in streams) == 2


def test_follow_fine_tune_reconnects_in_process(make_app: Callable[..., Starlette]) -> None:
    """In-process the TestClient runs each request on its own event loop, so only the follower may move the
    job (the system clock, at speed 60 a curie job takes a few seconds); the test thread only drops streams."""
    app = make_app(clock="system")
    control = TestClient(app, base_url="http://testserver/_emulator")
    client = Client(http=in_process(app))
    job_id = start_job(client, model="curie")
    seen: list[FineTuneEvent] = []
    follower = threading.Thread(target=lambda: seen.extend(Client(http=in_process(app)).fine_tunes.follow(job_id)))
    follower.start()
    dropped = 0
    while not dropped and follower.is_alive():
        dropped = control.post(f"/fine-tunes/{job_id}/drop-streams").json()["dropped"]
        follower.join(0.01)
    follower.join(30)
    assert dropped == 1 and not follower.is_alive()
    assert seen == client.fine_tunes.list_events(job_id)["data"]
    assert seen[-1]["message"] == "Fine-tune succeeded"


def test_drop_streams_unknown_fine_tune_is_not_found(app: Starlette) -> None:
    response = TestClient(app).post("/_emulator/fine-tunes/ft-nope/drop-streams")
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "No such fine-tune: ft-nope"


def test_follow_fine_tuning_job_gives_up_after_max_failed_polls(make_app: Callable[..., Starlette]) -> None:
    app = make_app()
    waits: list[float] = []
    with Client(http=in_process(app), api_key=KEY, sleep=waits.append) as client:
        file_id = client.files.create(jsonl(chat_lines(10)), filename="chat.jsonl")["id"]
        job_id = client.fine_tuning.jobs.create("gpt-4o-mini-2024-07-18", file_id)["id"]
        TestClient(app).post("/_emulator/faults", json={"path": "/v1/fine_tuning/jobs/*", "status": 503, "times": None})
        with pytest.raises(InternalServerError):
            next(client.fine_tuning.jobs.follow(job_id, max_failed_polls=2))
    # Each poll is the transport's three attempts; between the three polls, the follow loop's own backoff.
    assert len(waits) == 3 * 2 + 2 and waits[2] >= 0.375 and waits[5] >= 0.75


def test_follow_fine_tuning_job_unknown_id_raises_at_once(app: Starlette) -> None:
    waits: list[float] = []
    with Client(http=in_process(app), api_key=KEY, sleep=waits.append) as client, pytest.raises(NotFoundError):
        next(client.fine_tuning.jobs.follow("ftjob-nope"))
    assert waits == []
