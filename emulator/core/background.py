"""Background work on one daemon thread per purpose: a server stopping never waits for it (work is redone later)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")
# An idle thread ends after this long: a process with no work in hand has no extra thread (a fork stays safe).
IDLE_SECONDS = 0.1


class Background:
    """A FIFO of calls run one at a time on a daemon thread, started on first use.

    Unlike ThreadPoolExecutor, whose threads the interpreter joins at exit, a stopping server is not held up
    by a long job here; whatever it cuts short is written atomically elsewhere or redone after a restart.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._calls: queue.SimpleQueue[tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, work: Callable[..., T], *args: Any) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            self._calls.put((future, work, args))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
        return future

    def _run(self) -> None:
        while True:
            try:
                future, work, args = self._calls.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._lock:  # a submit after this check starts a new thread
                    if self._calls.empty():
                        self._thread = None
                        return
                continue
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(work(*args))
            except BaseException as exc:
                future.set_exception(exc)
