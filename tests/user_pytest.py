"""Running pytest on a user's test files in a subprocess (the installed plugin loads by its entry point)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run_user_pytest(directory: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`python -m pytest -q ARGS DIRECTORY` from inside DIRECTORY, its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, str(directory)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=directory,
    )
