"""Jobs prepared off the event loop, each once per process: one worker thread, in creation order; small ones here.

A job kind's preparation (reading, checking and tokenising its training file, keeping its examples, fixing its
plan) subclasses `Preparations` with its own `_prepare`. A job is stored before it is prepared, held in its
processing stage; the stored plan releases it to the scheduler. A job found unprepared after a restart is
started again by its kind when the scheduler first looks at its organisation.
"""

from __future__ import annotations

import gc
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from itertools import islice
from typing import Generic, Protocol, TypeVar

from emulator.core.background import Background


class Identified(Protocol):
    @property
    def id(self) -> str: ...


Job = TypeVar("Job", bound=Identified)
JobIn = TypeVar("JobIn", bound=Identified, contravariant=True)
Item = TypeVar("Item")
# Training files up to this size are prepared before the create answers (~0.1 s of work at most), those up to
# PREPARE_HERE_BYTES on the event loop itself (a slice of a few milliseconds), bigger ones on the worker thread.
AWAIT_PREPARATION_BYTES = 1_000_000
PREPARE_HERE_BYTES = 64_000


class Prepare(Protocol[JobIn]):
    """Starts a job's preparation (`Preparations.start`), as a job kind's lifecycle holds it."""

    def __call__(self, job: JobIn, *, here: bool = False) -> Future[None]: ...


def batches(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    """The items in lists of `size` (the last one shorter): a job's examples go into the store a batch a
    transaction, so no other request waits long for it."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


class CyclicCollector:
    """Pauses Python's cyclic garbage collector while any preparation runs.

    Reading a 100,000-line file makes millions of container objects; each full collection walks all of them
    while holding the GIL, so the event loop stood still for 35 ms, then 63, 92 ... 311 ms as the heap grew. The
    preparation's objects are freed by their reference counts when it ends, so nothing is left for the collector
    that waiting would lose; it runs again once no preparation does.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0
        self._was_enabled = False

    @contextmanager
    def paused(self) -> Iterator[None]:
        with self._lock:
            if self._running == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._running += 1
        try:
            yield
        finally:
            with self._lock:
                self._running -= 1
                if self._running == 0 and self._was_enabled:
                    gc.enable()


CYCLIC_GC = CyclicCollector()


class Preparations(ABC, Generic[Job]):
    """Starts each job's preparation once; a second start of the same job gets the first one's future."""

    def __init__(self, worker_name: str) -> None:
        self._running: dict[str, Future[None]] = {}
        self._done: set[str] = set()  # prepared by this process: a stale read of the job never starts it again
        self._lock = threading.Lock()
        self._worker = Background(worker_name)

    def start(self, job: Job, *, here: bool = False) -> Future[None]:
        """The job's preparation, started unless it already runs; `here`: in the calling thread, now.

        A small file is prepared `here` by its create: a few milliseconds in one slice cost the event loop less
        than two hand-overs to a worker thread, each of which waits for the GIL behind whatever that worker runs.
        """
        with self._lock:
            found = self._running.get(job.id)
            if found is not None:
                return found
            found = Future()
            if job.id in self._done:
                found.set_result(None)
                return found
            if not here:
                found = self._running[job.id] = self._worker.submit(self._prepare_once, job)
                return found
            self._running[job.id] = found
        try:
            self._prepare_once(job)
            found.set_result(None)
        except BaseException as exc:
            found.set_exception(exc)
            raise
        return found

    def _prepare_once(self, job: Job) -> None:
        try:
            with CYCLIC_GC.paused():
                self._prepare(job)
        finally:
            with self._lock:
                self._done.add(job.id)
                self._running.pop(job.id, None)

    @abstractmethod
    def _prepare(self, job: Job) -> None:
        """Prepare the job and store its plan (which releases it to the scheduler)."""
