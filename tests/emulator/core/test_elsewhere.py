"""A worker process ends with the process that started it, and answers what it was fed."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from emulator.core.elsewhere import Elsewhere

ROOT = Path(__file__).resolve().parents[3]
WORKER = "from emulator.core.elsewhere import exit_with_parent; exit_with_parent(); import time; time.sleep(60)"
# The middle process starts a worker, says its pid and ends at once, as a stopped server does.
MIDDLE = f"""
import os, subprocess, sys
environment = {{**os.environ, "FTEMU_WORKER_PARENT": str(os.getpid())}}
quiet = {{"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}}
worker = subprocess.Popen([sys.executable, "-c", {WORKER!r}], env=environment, **quiet)
print(worker.pid, flush=True)
"""


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "State:\tZ" in state


def test_a_worker_ends_when_the_process_that_started_it_does() -> None:
    middle = subprocess.run([sys.executable, "-c", MIDDLE], capture_output=True, text=True, cwd=ROOT, check=True)
    pid = int(middle.stdout)
    deadline = time.monotonic() + 10
    while not gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone(pid)


def test_a_worker_answers_what_it_was_fed() -> None:
    echo = Elsewhere("emulator.core.counting", [b"not a pickle"])  # a worker that fails reading its input
    assert echo.output() is None and echo.returncode != 0
