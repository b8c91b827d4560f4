"""Following a job under injected faults: `ftemu api fine_tunes.follow` through a stream cut mid-history and a
503 storm on reconnect; `ftemu api fine_tuning.jobs.follow` through a broken poll and a longer 503 storm."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.applications import Starlette

from client.cli_output import event_line
from client.testing import CliResult
from tests.client.cli_harness import Ftemu, event_lines, make_ftemu
from tests.conftest import jsonl
from tests.emulator.v1.support import chat_lines

EVENTS = "/v1/fine-tunes/{id}/events"


def test_fine_tunes_follow_survives_a_cut_stream_and_a_503_storm(
    make_app: Callable[..., Starlette], request: pytest.FixtureRequest, train: Path
) -> None:
    """Over uvicorn the test moves the manual clock once the follower has reconnected through the storm."""
    ftemu = make_ftemu("server", "60", make_app, request)
    job = ftemu.json("api", "fine_tunes.create", "-t", str(train), "-m", "ada", "--no_follow")
    ftemu.advance(2.05)
    cut = {"method": "GET", "path": EVENTS, "kind": "stream_cut", "after_chunks": 2}
    storm = {"method": "GET", "path": EVENTS, "status": 503, "times": 2, "headers": {"retry-after-ms": "10"}}
    result = follow_through(ftemu, [cut, storm], "fine_tunes.follow", job["id"])
    final = ftemu.json("api", "fine_tunes.get", "-i", job["id"])
    lines = result.out.splitlines()
    assert lines[: len(final["events"]) + 2] == [*event_lines(final), "", "Job complete! Status: succeeded 🎉"]
    assert [(e["status"], e["outcome"]) for e in journal_of_events(ftemu)] == [
        (200, "stream_cut after 2 chunks"),
        (503, "complete"),
        (503, "complete"),
        (200, "complete"),
    ]


def follow_through(ftemu: Ftemu, faults: list[dict[str, object]], command: str, job_id: str) -> CliResult:
    """`ftemu api COMMAND -i JOB` in a thread while the faults are in force; once they are used up, the clock
    moves on an hour so the job ends (over uvicorn the follower is waiting on the server meanwhile)."""
    for fault in faults:
        ftemu.control.post("/_emulator/faults", json=fault).raise_for_status()
    results: list[CliResult] = []
    follower = threading.Thread(target=lambda: results.append(ftemu("api", command, "-i", job_id)))
    follower.start()
    while ftemu.control.get("/_emulator/faults").json()["data"] and follower.is_alive():
        follower.join(0.01)
    ftemu.advance(3600)
    follower.join(60)
    assert not follower.is_alive() and results[0].code == 0, results
    return results[0]


def journal_of_events(ftemu: Ftemu) -> list[dict[str, object]]:
    entries = ftemu.control.get("/_emulator/requests", params={"method": "GET"}).json()["data"]
    return [entry for entry in entries if entry["path"].endswith("/events")]


JOB_EVENTS = "/v1/fine_tuning/jobs/{id}/events"


@pytest.mark.parametrize("mode", ["in-process", "server"])
def test_fine_tuning_jobs_follow_survives_a_broken_poll_and_a_503_storm(
    mode: str, make_app: Callable[..., Starlette], request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """More 503s than the transport retries: the follow loop backs off and polls again, repeating nothing."""
    chat = tmp_path / "chat.jsonl"
    chat.write_bytes(jsonl(chat_lines(10)))
    ftemu = make_ftemu(mode, "60", make_app, request)
    job = ftemu.json("api", "fine_tuning.jobs.create", "-m", "gpt-4o-mini-2024-07-18", "-F", str(chat))
    ftemu.advance(2)  # validated, started, a few dozen steps in
    broken = "truncate" if mode == "server" else "malformed"
    storm = {"method": "GET", "path": JOB_EVENTS, "status": 503, "times": 4, "headers": {"retry-after-ms": "10"}}
    faults = [{"method": "GET", "path": JOB_EVENTS, "kind": broken}, storm]
    result = follow_through(ftemu, faults, "fine_tuning.jobs.follow", job["id"])
    final = ftemu.json("api", "fine_tuning.jobs.retrieve", "-i", job["id"])
    events = ftemu.json("api", "fine_tuning.jobs.list_events", "-i", job["id"], "-l", "100")["data"]
    events += ftemu.json("api", "fine_tuning.jobs.list_events", "-i", job["id"], "-l", "100", "-a", events[-1]["id"])[
        "data"
    ]
    expected = [event_line(event) for event in reversed(events)]
    assert len(expected) > 100 and len(set(expected)) == len(expected)
    model = final["fine_tuned_model"]
    assert result.out.splitlines() == [*expected, "", f"Job succeeded. Model: {model}"]
    journal = [(e["status"], e["outcome"]) for e in journal_of_events(ftemu)]
    assert journal[:5] == [(200, broken + ("d" if broken == "truncate" else "")), *[(503, "complete")] * 4]
    assert set(journal[5:]) == {(200, "complete")}
