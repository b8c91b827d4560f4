"""Clocks: the only module that reads wall time. SystemClock follows it; VirtualClock moves when told."""

from __future__ import annotations

import math
import threading
import time
from typing import Protocol

# A manual clock stays a finite moment a date can show: never past the last second of the year 9999, and one
# advance moves it at most ten years (a test that needs more advances again).
LATEST = 253_402_300_799.0
MAX_ADVANCE = 10 * 365 * 86_400


def valid_moment(value: float) -> bool:
    """A finite time between the Unix epoch and LATEST."""
    return math.isfinite(value) and 0 <= value <= LATEST


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
        if not (math.isfinite(seconds) and 0 <= seconds <= MAX_ADVANCE):
            raise ValueError(f"an advance is 0 to {MAX_ADVANCE} seconds")
        with self._lock:
            if self._now + seconds > LATEST:
                raise ValueError("the clock cannot go past 9999-12-31T23:59:59Z")
            self._now += seconds
            return self._now

    def set(self, moment: float) -> float:
        with self._lock:
            if not valid_moment(moment):
                raise ValueError("not a moment the clock can show")
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
