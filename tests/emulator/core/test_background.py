"""Background work: calls run in order on one daemon thread, which ends once idle."""

from __future__ import annotations

import threading
import time

import pytest

from emulator.core import background
from emulator.core.background import Background


def test_background_runs_calls_in_order_and_reports_failures() -> None:
    worker = Background("test-background")
    seen: list[int] = []
    futures = [worker.submit(seen.append, number) for number in range(5)]
    failing = worker.submit(lambda: 1 / 0)
    assert [f.result(timeout=10) for f in futures] == [None] * 5 and seen == [0, 1, 2, 3, 4]
    with pytest.raises(ZeroDivisionError):
        failing.result(timeout=10)


def test_background_thread_ends_when_idle_and_starts_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(background, "IDLE_SECONDS", 0.01)
    worker = Background("test-background-idle")
    assert worker.submit(threading.current_thread).result(timeout=10).daemon
    for _ in range(500):
        if not any(t.name == "test-background-idle" for t in threading.enumerate()):
            break
        time.sleep(0.01)
    else:
        raise AssertionError("the idle thread did not end")
    assert worker.submit(lambda: 7).result(timeout=10) == 7
