"""The shared preparation machinery: each job once, small ones here, and the cyclic collector paused meanwhile."""

from __future__ import annotations

import gc
import threading
from dataclasses import dataclass

import pytest

from emulator.core.preparations import CyclicCollector, Preparations


@dataclass(frozen=True)
class Job:
    id: str


class Recorded(Preparations[Job]):
    def __init__(self, gate: threading.Event | None = None) -> None:
        super().__init__("test-prepare")
        self.gate = gate
        self.prepared: list[tuple[str, bool]] = []

    def _prepare(self, job: Job) -> None:
        if self.gate is not None:
            assert self.gate.wait(10)
        self.prepared.append((job.id, gc.isenabled()))


def test_each_job_is_prepared_once_with_the_collector_paused() -> None:
    preparations = Recorded()
    first = preparations.start(Job("a"))
    assert preparations.start(Job("a")) is first or first.done()
    first.result(timeout=10)
    preparations.start(Job("a")).result(timeout=10)  # done: not again
    preparations.start(Job("b"), here=True)
    assert preparations.prepared == [("a", False), ("b", False)]
    assert gc.isenabled()


def test_the_collector_runs_again_when_the_last_preparation_ends() -> None:
    collector = CyclicCollector()
    with collector.paused():
        with collector.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_disabled_before_stays_disabled() -> None:
    collector = CyclicCollector()
    gc.disable()
    try:
        with collector.paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_failed_preparation_still_lets_the_collector_run() -> None:
    class Failing(Preparations[Job]):
        def _prepare(self, job: Job) -> None:
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        Failing("test-fail").start(Job("x"), here=True)
    assert gc.isenabled()
