"""The simulated training queue: every job's future is data; catch_up(now) applies what is due, in time order.

The scheduler knows no job kind's details. Each kind (legacy fine-tunes, fine-tuning jobs) registers a
`JobKind` that lists its active jobs as `ScheduledJob`s and applies one due transition at a time. Both kinds share
each organisation's training slots and one first-come-first-served queue. Every transition happens at a time
derived from the stored plan and stored facts (when a job was queued, started, finished), so reading state never
depends on a background thread and a restart resumes every job where the clock says it is.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol, TypeVar

from emulator.core.plan import ScheduledJob, Stage
from emulator.store import Organization

NEVER = math.inf
K = TypeVar("K")


class JobKind(Protocol):
    """One kind of job, as the scheduler sees it."""

    name: str

    def active_jobs(self, organization_id: str) -> list[ScheduledJob]:
        """Jobs not yet in a terminal state, oldest first."""
        ...

    def last_slot_release(self, organization_id: str) -> float:
        """When one of this kind's jobs last gave its training slot back (0 if never)."""
        ...

    def advance(self, organization: Organization, job: ScheduledJob, when: float, waiting: list[ScheduledJob]) -> None:
        """Apply the job's one transition due at `when` (inside a store transaction); `waiting` is the queue."""
        ...

    def queue_moved(self, organization: Organization, waiting: list[ScheduledJob], when: float) -> None:
        """The organisation's queue changed: `waiting` is everyone in it, first first, across kinds.

        It may tell the jobs their places, but must change nothing their schedule is made of (ScheduledJob).
        """
        ...


class Scheduler:
    """Applies due transitions to an organisation's jobs of every kind, in time order, one writer at a time."""

    def __init__(
        self,
        kinds: list[JobKind],
        slots: int,
        on_change: Callable[[], None],
        transaction: Callable[[], AbstractContextManager[None]],
        changes: Callable[[], int] | None = None,
    ) -> None:
        self.kinds = {kind.name: kind for kind in kinds}
        self.slots = slots
        self.on_change = on_change
        self._transaction = transaction
        self._idle: set[str] = set()  # organisations known to have no job that is not over
        # `changes` counts the store's writes: an organisation whose next transition was worked out at the
        # current count is not looked at again before that time (most requests then read nothing).
        self._changes = changes
        self._next: dict[str, tuple[int, float]] = {}  # organisation -> (the count then, its next due time)
        # Concurrent catch-ups (threads of an in-process app) must not apply the same transition twice, nor
        # end a job that another thread just finished.
        self._lock = threading.RLock()

    def kind(self, name: str, expected: type[K]) -> K:
        """A registered job kind, as the class its API generation knows it by."""
        found = self.kinds[name]
        assert isinstance(found, expected)
        return found

    def wake(self, organization_id: str) -> None:
        """A job was created (or the store changed under us): look at the organisation again."""
        with self._lock:
            self._idle.discard(organization_id)
            self._next.pop(organization_id, None)

    def forget(self) -> None:
        with self._lock:
            self._idle.clear()
            self._next.clear()

    # reading the schedule ---------------------------------------------------------------------------------

    def active_jobs(self, organization_id: str) -> list[ScheduledJob]:
        return [job for kind in self.kinds.values() for job in kind.active_jobs(organization_id)]

    def waiting(self, jobs: list[ScheduledJob]) -> list[ScheduledJob]:
        """Jobs processed and waiting for a slot, first come first served (across kinds)."""
        queued = [job for job in jobs if job.stage == Stage.QUEUED and not job.held]
        return sorted(queued, key=lambda job: (job.queued_at or 0.0, job.created_at, job.seq))

    def _release_if_queued(self, organization_id: str, jobs: list[ScheduledJob]) -> float:
        """When a slot was last given back: only a queued job's due time needs it (two queries saved otherwise)."""
        if any(job.stage == Stage.QUEUED for job in jobs):
            return self._release(organization_id)
        return 0.0

    def _release(self, organization_id: str) -> float:
        return max((kind.last_slot_release(organization_id) for kind in self.kinds.values()), default=0.0)

    def _due(self, job: ScheduledJob, jobs: list[ScheduledJob], release: float, queue: _Queue | None = None) -> float:
        if job.held:
            return NEVER
        if job.stage == Stage.PROCESSING:
            return job.created_at + job.processing
        if job.stage == Stage.QUEUED:
            queue = queue or _Queue(self, jobs)
            if queue.place[job.id] >= self.slots - queue.running:
                return NEVER
            assert job.queued_at is not None
            return max(job.queued_at + job.start_delay, release)
        assert job.started_at is not None
        return job.started_at + job.step_offsets[Stage.step_index(job.stage)]

    def next_due(self, organization: Organization) -> float:
        """When the organisation's next transition happens (inf when nothing is planned)."""
        jobs = self.active_jobs(organization.id)
        release = self._release_if_queued(organization.id, jobs)
        queue = _Queue(self, jobs)
        return min((self._due(job, jobs, release, queue) for job in jobs), default=NEVER)

    # applying it ------------------------------------------------------------------------------------------

    def catch_up(self, organization: Organization, now: float) -> None:
        if organization.id in self._idle:
            return
        known = self._next.get(organization.id)
        if known is not None and self._changes is not None and known[0] == self._changes() and now < known[1]:
            return
        with self._lock:
            self._catch_up(organization, now)

    def _catch_up(self, organization: Organization, now: float) -> None:
        changed = False
        count = self._changes() if self._changes is not None else None  # before reading: a later write shows
        jobs = self.active_jobs(organization.id)
        while True:
            if not jobs:
                self._idle.add(organization.id)
                break
            release = self._release_if_queued(organization.id, jobs)
            queue = _Queue(self, jobs)
            when, _, job = min(((self._due(job, jobs, release, queue), job.seq, job) for job in jobs), key=_by_time)
            if when > now:
                if count is not None:
                    self._next[organization.id] = (count, when)
                break
            with self._transaction():
                self.kinds[job.kind].advance(organization, job, when, self.waiting(jobs))
                jobs = self.active_jobs(organization.id)
                if job.stage in (Stage.PROCESSING, Stage.QUEUED):  # only these join or leave the queue
                    self.announce(organization, when, jobs)
                # Inside the transaction no other writer comes between; queue_moved changes no job's schedule.
                count = self._changes() if self._changes is not None else None
            changed = True
        if changed:
            self.on_change()

    def announce(self, organization: Organization, when: float, jobs: list[ScheduledJob] | None = None) -> None:
        """Tell every kind the organisation's queue as it stands now (after a start or an end); `jobs`: its
        active jobs, when the caller has just read them."""
        waiting = self.waiting(self.active_jobs(organization.id) if jobs is None else jobs)
        for kind in self.kinds.values():
            kind.queue_moved(organization, waiting, when)

    @contextmanager
    def acting(self, organization: Organization, when: float) -> Iterator[None]:
        """Act on a job now (cancel, fail, pause): what was due first, then the action, then what it made due."""
        with self._lock:
            self._idle.discard(organization.id)
            self._next.pop(organization.id, None)
            self._catch_up(organization, when)
            yield
            self.announce(organization, when)
            self._catch_up(organization, when)
        self.on_change()


class _Queue:
    """The queue's order and the running count, worked out once per look (not once per queued job)."""

    def __init__(self, scheduler: Scheduler, jobs: list[ScheduledJob]) -> None:
        waiting = [job for job in jobs if job.stage == Stage.QUEUED and not job.held]
        self.place = {job.id: position for position, job in enumerate(scheduler.waiting(waiting))}
        self.running = sum(1 for job in jobs if job.running)


def _by_time(item: tuple[float, int, ScheduledJob]) -> tuple[float, int]:
    return item[0], item[1]
