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
