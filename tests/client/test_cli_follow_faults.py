"""`ftemu api fine_tunes.follow` under injected faults: a stream cut mid-history and a 503 storm on reconnect."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI

from client.testing import CliResult
from tests.client.cli_harness import Ftemu, event_lines, make_ftemu

EVENTS = "/v1/fine-tunes/{id}/events"


def test_fine_tunes_follow_survives_a_cut_stream_and_a_503_storm(
    make_app: Callable[..., FastAPI], request: pytest.FixtureRequest, train: Path
) -> None:
    """Over uvicorn the test moves the manual clock once the follower has reconnected through the storm."""
    ftemu = make_ftemu("server", "60", make_app, request)
    job = ftemu.json("api", "fine_tunes.create", "-t", str(train), "-m", "ada", "--no_follow")
    ftemu.advance(2.05)
    faults = "/_emulator/faults"
    ftemu.control.post(faults, json={"method": "GET", "path": EVENTS, "kind": "stream_cut", "after_chunks": 2})
    storm = {"method": "GET", "path": EVENTS, "status": 503, "times": 2, "headers": {"retry-after-ms": "10"}}
    ftemu.control.post(faults, json=storm).raise_for_status()
    results: list[CliResult] = []
    follower = threading.Thread(target=lambda: results.append(ftemu("api", "fine_tunes.follow", "-i", job["id"])))
    follower.start()
    while ftemu.control.get(faults).json()["data"] and follower.is_alive():  # until the storm is over
        follower.join(0.01)
    ftemu.advance(3600)
    follower.join(30)
    assert not follower.is_alive() and results[0].code == 0, results
    final = ftemu.json("api", "fine_tunes.get", "-i", job["id"])
    lines = results[0].out.splitlines()
    assert lines[: len(final["events"]) + 2] == [*event_lines(final), "", "Job complete! Status: succeeded 🎉"]
    assert [(e["status"], e["outcome"]) for e in journal_of_events(ftemu)] == [
        (200, "stream_cut after 2 chunks"),
        (503, "complete"),
        (503, "complete"),
        (200, "complete"),
    ]


def journal_of_events(ftemu: Ftemu) -> list[dict[str, object]]:
    entries = ftemu.control.get("/_emulator/requests", params={"method": "GET"}).json()["data"]
    return [entry for entry in entries if entry["path"].endswith("/events")]
