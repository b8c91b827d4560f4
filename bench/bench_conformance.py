"""Issue 7: the conformance kit's session server start-up, and a full in-process run of the behaviour suite."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

from bench.common import ROOT
from emulator import Settings
from emulator.testing import LiveServer

SPEC_DIR = os.environ.get("FTEMU_SPEC_DIR", str(ROOT.parent / "shared" / "reference" / "openapi"))


def server_start_seconds(runs: int = 5) -> float:
    """From constructing the kit's session server (LiveServer, kit defaults) to it answering on its socket."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        server = LiveServer(Settings(memory=True, clock="manual", speed="instant", seed=7)).start()
        samples.append(time.perf_counter() - started)
        server.stop()
    return statistics.median(samples)


def suite_seconds(*flags: str) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:xdist",
            "-p",
            "no:cacheprovider",
            "--pyargs",
            "conformance",
            *flags,
        ],
        cwd=ROOT,
        env={**os.environ, "FTEMU_SPEC_DIR": SPEC_DIR},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:]
    return time.perf_counter() - started


def main() -> None:
    start = server_start_seconds()
    print(f"session server start-up, imports done: {start:.3f} s (median of 5; target < 1.5 s; cold: bench_server)")
    local = suite_seconds()
    remote = suite_seconds("--target-server")
    print(
        f"behaviour suite, whole run incl. interpreter start: in-process {local:.1f} s (target < 60 s), "
        f"--target-server {remote:.1f} s (ratio {remote / local:.2f})"
    )


if __name__ == "__main__":
    main()
