"""A job's future as data: its stages, the timed steps of its run, and the statuses a job never leaves."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

TERMINAL = ("succeeded", "failed", "cancelled")


class Stage(IntEnum):
    """Where a job stands in the schedule; stored as an integer.

    PROCESSING: its files are being processed (validated). QUEUED: processed, waiting for one of the
    organisation's training slots (first come, first served). RUNNING + i: running, step i of its plan is next.
    """

    PROCESSING = 0
    QUEUED = 1
    RUNNING = 2

    @staticmethod
    def step_index(stage: int) -> int:
        """Which planned step a running job's stored stage is waiting for."""
        return stage - Stage.RUNNING


@dataclass(frozen=True)
class Step:
    """One planned moment of a run: `offset` simulated seconds after the start, of a kind the job kind names."""

    offset: float
    kind: str
    number: int


@dataclass(frozen=True)
class ScheduledJob:
    """What the scheduler needs to know of any job, whatever its kind (legacy fine-tune or fine-tuning job)."""

    kind: str
    id: str
    seq: int
    organization_id: str
    stage: int
    status: str
    created_at: float
    queued_at: float | None
    started_at: float | None
    processing: float
    start_delay: float
    step_offsets: tuple[float, ...]
    held: bool = False  # paused: no transition is due until it is resumed

    @property
    def running(self) -> bool:
        return self.stage >= Stage.RUNNING
