"""Lifecycle properties (§3): whatever the clock does, statuses never go backwards and events only grow in order."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.handle import Ftemu
from conformance.suite.support import create_fine_tune

behaviour = pytest.mark.behaviour
ORDER = {"pending": 0, "running": 1, "succeeded": 2, "failed": 2, "cancelled": 2}


@pytest.mark.emulator_only
@pytest.mark.ftemu(clock="manual", speed="60")
@behaviour("§3.1, §3.2", "Under any clock steps, status never goes backwards and events only append, oldest first")
@settings(max_examples=15, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(st.floats(min_value=0, max_value=90, allow_nan=False), min_size=1, max_size=8),
    cancel_at=st.one_of(st.none(), st.integers(min_value=0, max_value=7)),
)
def test_fine_tune_statuses_never_go_backwards(ftemu: Ftemu, steps: list[float], cancel_at: int | None) -> None:
    ftemu.reset()
    job = create_fine_tune(ftemu, n_epochs=1)
    seen = [job]
    for number, seconds in enumerate(steps):
        ftemu.advance(seconds)
        if number == cancel_at and seen[-1]["status"] in ("pending", "running"):
            ftemu.http.post(f"/fine-tunes/{job['id']}/cancel")
        seen.append(ftemu.fine_tune(job["id"]))
    for before, after in itertools.pairwise(seen):
        assert ORDER[after["status"]] >= ORDER[before["status"]]
        if ORDER[before["status"]] == 2:
            assert after["status"] == before["status"]
        assert after["events"][: len(before["events"])] == before["events"]
        times = [event["created_at"] for event in after["events"]]
        assert times == sorted(times) and after["updated_at"] == times[-1]
