"""The scheduler looks at an organisation again only when its next transition is due or the store has changed."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import replace

from emulator.core.plan import ScheduledJob, Stage
from emulator.core.queue import Scheduler
from emulator.store import Organization

ORG = Organization("org-1", "acme", 0)


class Kind:
    """One job in processing until `due`, then done; counts how often the scheduler lists the active jobs."""

    name = "fake"

    def __init__(self, due: float) -> None:
        self.jobs = [
            ScheduledJob("fake", "job-1", 1, ORG.id, Stage.PROCESSING, "pending", 0.0, None, None, due, 0.0, ())
        ]
        self.listed = 0
        self.advanced: list[float] = []

    def active_jobs(self, organization_id: str) -> list[ScheduledJob]:
        self.listed += 1
        return list(self.jobs)

    def last_slot_release(self, organization_id: str) -> float:
        return 0.0

    def advance(self, organization: Organization, job: ScheduledJob, when: float, waiting: list[ScheduledJob]) -> None:
        self.advanced.append(when)
        self.jobs = []

    def queue_moved(self, organization: Organization, waiting: list[ScheduledJob], when: float) -> None:
        pass


def scheduler(kind: Kind, writes: list[int]) -> Scheduler:
    return Scheduler([kind], 1, lambda: None, nullcontext, changes=lambda: writes[0])


def test_nothing_due_and_nothing_written_reads_no_job() -> None:
    kind, writes = Kind(due=100.0), [0]
    queue = scheduler(kind, writes)
    queue.catch_up(ORG, 10.0)
    assert kind.listed == 1
    queue.catch_up(ORG, 50.0)
    queue.catch_up(ORG, 99.9)
    assert kind.listed == 1 and kind.advanced == []
    queue.catch_up(ORG, 100.0)  # due now
    assert kind.advanced == [100.0]


def test_a_write_to_the_store_makes_it_look_again() -> None:
    kind, writes = Kind(due=100.0), [0]
    queue = scheduler(kind, writes)
    queue.catch_up(ORG, 10.0)
    kind.jobs = [replace(kind.jobs[0], processing=20.0)]  # a preparation stored a sooner plan
    writes[0] += 1
    queue.catch_up(ORG, 30.0)
    assert kind.listed > 1 and kind.advanced == [20.0]


def test_wake_forgets_what_it_worked_out() -> None:
    kind, writes = Kind(due=100.0), [0]
    queue = scheduler(kind, writes)
    queue.catch_up(ORG, 10.0)
    kind.jobs = [replace(kind.jobs[0], processing=20.0)]
    queue.wake(ORG.id)
    queue.catch_up(ORG, 30.0)
    assert kind.advanced == [20.0]


def test_without_a_write_count_it_looks_every_time() -> None:
    kind = Kind(due=100.0)
    queue = Scheduler([kind], 1, lambda: None, nullcontext)
    queue.catch_up(ORG, 10.0)
    queue.catch_up(ORG, 20.0)
    assert kind.listed == 2
