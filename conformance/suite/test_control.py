"""ftemu's test-control plane (`/_emulator`): a clean slate, a manual clock, instant training (ftemu only)."""

from __future__ import annotations

import pytest

from conformance.handle import Ftemu
from conformance.suite.support import create_fine_tune
from emulator.core.catalogue import BASE_MODELS, MODERN_MODELS

behaviour = pytest.mark.behaviour
pytestmark = pytest.mark.emulator_only


@behaviour("ftemu", "`POST /_emulator/reset` forgets every file, job and fine-tuned model")
def test_reset_forgets_everything(ftemu: Ftemu) -> None:
    create_fine_tune(ftemu)
    ftemu.reset()
    assert ftemu.http.get("/files").json()["data"] == []
    assert ftemu.http.get("/fine-tunes").json()["data"] == []
    assert [model["id"] for model in ftemu.http.get("/models").json()["data"]] == [*BASE_MODELS, *MODERN_MODELS]


@pytest.mark.ftemu(clock="manual", speed="60")
@behaviour("ftemu", "A manual clock stands still until `POST /_emulator/clock/advance` moves it (and due jobs with it)")
def test_manual_clock_moves_only_when_advanced(ftemu: Ftemu) -> None:
    job = create_fine_tune(ftemu)
    before = ftemu.http.get(ftemu.instance.control_url("/clock")).json()
    assert before["kind"] == "manual"
    assert ftemu.fine_tune(job["id"])["status"] == "pending"
    after = ftemu.advance(600)
    assert after["now"] == before["now"] + 600
    assert ftemu.fine_tune(job["id"])["status"] == "succeeded"


@pytest.mark.ftemu(speed="instant")
@behaviour("ftemu", "With `speed=instant` a job has succeeded by the time its create call returns")
def test_instant_speed_finishes_at_creation(ftemu: Ftemu) -> None:
    job = create_fine_tune(ftemu)
    assert ftemu.fine_tune(job["id"])["status"] == "succeeded"


@behaviour("ftemu", "`POST /_emulator/faults` answers the fault with its `id`; it applies to the next `times` matches")
def test_fault_applies_to_the_next_matching_requests(ftemu: Ftemu) -> None:
    fault = ftemu.faults.add(method="GET", path="/v1/models", status=503, headers={"x-should-retry": "false"}, times=2)
    assert fault["id"] and fault["status"] == 503
    first, second, third = (ftemu.http.get("/models") for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (503, 503, 200)
    assert first.headers["x-should-retry"] == "false"
    assert first.json() == {
        "error": {
            "message": "The server is overloaded or not ready yet.",
            "type": "server_error",
            "param": None,
            "code": None,
        }
    }
    ftemu.faults.add(method="GET", path="/v1/models", status=500, times=None)
    ftemu.faults.clear()
    assert ftemu.http.get("/models").status_code == 200


@behaviour("ftemu", "`GET /_emulator/requests` lists every API request, oldest first; `DELETE` clears it")
def test_journal_lists_requests_oldest_first(ftemu: Ftemu) -> None:
    ftemu.http.get("/models")
    ftemu.http.get("/files/file-nope")
    listed = ftemu.http.get(ftemu.instance.control_url("/requests")).json()
    assert listed["object"] == "list"
    assert [(e["method"], e["path"], e["status"]) for e in listed["data"]] == [
        ("GET", "/v1/models", 200),
        ("GET", "/v1/files/file-nope", 404),
    ]
    ftemu.journal.clear()
    assert ftemu.journal() == []
