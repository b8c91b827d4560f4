"""Work for the second core: a fresh `python -m <module>` fed bytes on stdin, whose stdout is the answer.

A Python thread cannot use a second core for Python work, and a CPU-bound thread beside the event loop makes
every request wait for the GIL at each of its C calls (an SQLite row, a socket write). A worker process has its
own interpreter. It is started fresh (fork-and-exec: safe beside this process's threads, and unlike
multiprocessing's spawn it never re-imports the caller's main module), its input is written by a daemon thread
(so the caller goes on at once instead of waiting for it to start reading), and it is a child of its own: a
stopping server does not wait for it. Used by the token counts of a big training file (counting.py) and the
similarity part of a big index (emulator/inference/completing.py).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path

PARENT_CHECK_SECONDS = 0.5
PARENT_VARIABLE = "FTEMU_WORKER_PARENT"


def exit_with_parent() -> None:
    """In a worker: end as soon as the process that started it has (a stopped server wants no answer, and a
    100,000-example index would otherwise keep a core busy for seconds after it)."""
    parent = int(os.environ.get(PARENT_VARIABLE) or os.getppid())  # given: it may have ended before this ran

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, name="ftemu-parent-watch", daemon=True).start()


class Elsewhere:
    """One run of `python -m module` on the given input; `output` waits for its answer."""

    def __init__(self, module: str, chunks: Iterable[bytes]) -> None:
        if not sys.executable:
            raise OSError("no Python executable to start")
        package_root = str(Path(__file__).resolve().parents[2])  # where `emulator` is, installed or not
        paths = [package_root, *filter(None, [os.environ.get("PYTHONPATH")])]
        self._process = subprocess.Popen(
            [sys.executable, "-m", module],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(paths), PARENT_VARIABLE: str(os.getpid())},
        )
        self._sender = threading.Thread(target=self._send, args=(chunks,), name=f"ftemu-send-{module}", daemon=True)
        self._sender.start()

    def _send(self, chunks: Iterable[bytes]) -> None:
        stdin = self._process.stdin
        assert stdin is not None
        try:
            for chunk in chunks:  # made one at a time here, off the caller's thread
                stdin.write(chunk)
        except OSError:
            pass  # the process died: `output` finds out
        finally:
            with contextlib.suppress(OSError):
                stdin.close()

    def output(self) -> bytes | None:
        """Everything the process wrote, or None when it did not end well."""
        stdout = self._process.stdout
        assert stdout is not None
        try:
            data = stdout.read()
        finally:
            stdout.close()
            self._sender.join()
            self._process.wait()
        return data if self._process.returncode == 0 else None

    @property
    def returncode(self) -> int | None:
        return self._process.returncode
