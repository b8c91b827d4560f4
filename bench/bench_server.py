"""Issue 2: start-up to the first 200 on /v1/models, and GET /v1/models per second vs a bare Starlette endpoint."""

from __future__ import annotations

import statistics
from collections.abc import Callable

from bench.common import bare_command, free, ftemu_command, load, server


def startup_seconds(command_for: Callable[[int], list[str]], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        port = free()
        with server(command_for(port), port, "/v1/models") as seconds:
            times.append(seconds)
    return statistics.median(times)


def main() -> None:
    ftemu_start = startup_seconds(ftemu_command)
    bare_start = startup_seconds(bare_command)
    print(
        f"start-up to first 200: ftemu {ftemu_start:.3f} s, bare Starlette {bare_start:.3f} s "
        f"(ratio {ftemu_start / bare_start:.2f}x; target: ftemu < 1.5 s)"
    )
    port_a, port_b = free(), free()
    with (
        server(ftemu_command(port_a), port_a, "/v1/models"),
        server(bare_command(port_b), port_b, "/v1/models"),
    ):
        load(f"http://127.0.0.1:{port_a}/v1/models", seconds=0.5)
        load(f"http://127.0.0.1:{port_b}/v1/models", seconds=0.5)
        ratios = []
        for round_number in range(1, 4):  # alternating rounds: a noisy neighbour hits both sides alike
            bare_rps = load(f"http://127.0.0.1:{port_b}/v1/models", seconds=2.0)
            ftemu_rps = load(f"http://127.0.0.1:{port_a}/v1/models", seconds=2.0)
            ratios.append(ftemu_rps / bare_rps)
            print(
                f"round {round_number}: GET /v1/models ftemu {ftemu_rps:.0f} req/s, bare Starlette {bare_rps:.0f} "
                f"req/s, ratio {ratios[-1]:.2f}"
            )
    print(f"GET /v1/models / bare endpoint: median ratio {statistics.median(ratios):.2f} (target >= 0.50)")


if __name__ == "__main__":
    main()
