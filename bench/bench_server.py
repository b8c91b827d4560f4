"""Issue 13: `ftemu serve` as users start it vs a bare Starlette app on uvicorn[standard], both under wrk.

Start-up to the first 200 on /v1/models, and GET /v1/models per second (wrk, 2 threads, 32 connections), in
alternating rounds so a noisy neighbour hits both alike. Targets: throughput >= 0.6x, start-up <= 1.5x.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable

from bench.common import bare_command, ensure_wrk, free, ftemu_serve_command, server, wrk


def startup_seconds(command_for: Callable[[int], list[str]], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        port = free()
        with server(command_for(port), port, "/v1/models") as seconds:
            times.append(seconds)
    return statistics.median(times)


def main() -> None:
    print(f"load generator: {ensure_wrk() or 'bench.common.load (wrk unavailable)'}")
    ftemu_start, bare_start = [], []
    for _ in range(2):  # alternating: both see the same machine
        ftemu_start.append(startup_seconds(ftemu_serve_command, runs=3))
        bare_start.append(startup_seconds(bare_command, runs=3))
    f_start, b_start = statistics.median(ftemu_start), statistics.median(bare_start)
    print(
        f"start-up to first 200: ftemu serve {f_start:.3f} s, bare Starlette {b_start:.3f} s "
        f"(ratio {f_start / b_start:.2f}x; target <= 1.5x)"
    )
    port_a, port_b = free(), free()
    with (
        server(ftemu_serve_command(port_a), port_a, "/v1/models"),
        server(bare_command(port_b), port_b, "/v1/models"),
    ):
        wrk(f"http://127.0.0.1:{port_a}/v1/models", seconds=1)
        wrk(f"http://127.0.0.1:{port_b}/v1/models", seconds=1)
        ratios = []
        for round_number in range(1, 4):
            bare_rps = wrk(f"http://127.0.0.1:{port_b}/v1/models")
            ftemu_rps = wrk(f"http://127.0.0.1:{port_a}/v1/models")
            ratios.append(ftemu_rps / bare_rps)
            print(
                f"round {round_number}: GET /v1/models ftemu serve {ftemu_rps:.0f} req/s, bare Starlette "
                f"{bare_rps:.0f} req/s, ratio {ratios[-1]:.2f}"
            )
    print(
        f"GET /v1/models / bare Starlette on uvicorn[standard]: median ratio {statistics.median(ratios):.2f} "
        "(target >= 0.6)"
    )


if __name__ == "__main__":
    main()
