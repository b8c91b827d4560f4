"""Work in a forked child process whose result comes back pickled over a pipe; any failure reads as `None`."""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Generic, TypeVar

T = TypeVar("T")


def available() -> bool:
    """Forking is safe here: Linux, and no other thread whose locks a child could inherit mid-use."""
    return sys.platform.startswith("linux") and hasattr(os, "fork") and threading.active_count() == 1


class Child(Generic[T]):
    """`work()` running in a forked child from construction on; `result()` waits for it.

    Use as a context manager: leaving the block without `result()` kills and reaps the child.
    """

    def __init__(self, work: Callable[[], T]) -> None:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child process; coverage does not follow it
            os.close(read)
            _serve(work, write)
        os.close(write)
        self.pid: int | None = pid
        self.fd = read

    def result(self) -> T | None:
        """The child's return value, or None when it raised, died, was killed or exited non-zero."""
        value: tuple[bool, T] | None = None
        try:
            with os.fdopen(self.fd, "rb") as source:
                value = pickle.load(source)
                if source.read(1):
                    value = None
        except Exception:
            value = None
        status = self._reap()
        if status != 0 or not isinstance(value, tuple) or value[0] is not True:
            return None
        return value[1]

    def _reap(self) -> int:
        pid, self.pid = self.pid, None
        if pid is None:
            return -1
        _, status = os.waitpid(pid, 0)
        return status

    def cancel(self) -> None:
        if self.pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.close(self.fd)
        self._reap()

    def __enter__(self) -> Child[T]:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.cancel()


def _serve(work: Callable[[], T], fd: int) -> None:  # pragma: no cover - runs in the child
    """Run `work`, send `(True, result)`, and leave without running the parent's exit handlers or flushes."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        # Pickled whole before writing: a pipe holds 64 KiB, so pickling into it would wait for the parent's read
        # and no longer overlap the parent's own work.
        payload = pickle.dumps((True, work()), protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(fd, "wb") as sink:
            sink.write(payload)
        code = 0
    except BaseException:
        code = 1
    finally:
        os._exit(code)
