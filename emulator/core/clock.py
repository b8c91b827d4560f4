"""Clocks: the only module that reads wall time. SystemClock follows it; VirtualClock moves when told."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """What the emulator asks of time: the current Unix time in seconds."""

    manual: bool

    def now(self) -> float: ...


class SystemClock:
    """Wall-clock time."""

    manual = False

    def now(self) -> float:
        return time.time()


class VirtualClock:
    """A frozen clock that moves only through advance() or set()."""

    manual = True

    def __init__(self, start: float) -> None:
        self._now = float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("a clock never goes backwards")
        with self._lock:
            self._now += seconds
            return self._now

    def set(self, moment: float) -> float:
        with self._lock:
            if moment < self._now:
                raise ValueError("a clock never goes backwards")
            self._now = float(moment)
            return self._now


def monotonic() -> float:
    """Elapsed-time measurements (processing-ms headers, stream timeouts)."""
    return time.monotonic()


def wall_time() -> float:
    """Real Unix time, for what must be checked against the receiver's clock (webhook timestamps)."""
    return time.time()
