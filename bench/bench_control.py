"""Issue 16: the SDK in-process (httpx2 transport, no socket) vs over a socket, and the control plane's cost.

Both measured side by side in one run, alternating rounds so a noisy neighbour hits both sides alike:
1. `client.models.list()` of the current `openai` SDK, in-process vs over uvicorn (target: in-process >= 2x);
2. GET /v1/models through the ASGI app with the control-plane middleware (no fault set, journal on) vs the
   same app without it, and the middleware's own cost around a trivial app (target: < 5 % overhead). Best
   batches, not means: on a shared machine a neighbour's load only ever adds time.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from typing import Any

import httpx2
import openai

from bench.common import free, ftemu_command, server
from conformance.transport import SyncASGITransport
from emulator import Settings, create_app
from emulator.http.faults import ControlPlane
from emulator.testing import LiveServer

KEY = "sk-bench-0123456789abcdef"
SETTINGS = Settings(memory=True, clock="manual", speed="instant", seed=1)


def per_call(call: Callable[[], Any], calls: int) -> float:
    """Mean wall seconds per call over one batch."""
    started = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - started) / calls


def compare(local: Callable[[], Any], remote: Callable[[], Any], label: str) -> tuple[float, float]:
    """Alternating batches; the median ratio of socket time to in-process time, and best batch against best."""
    ratios, local_times, socket_times = [], [], []
    per_call(local, 20), per_call(remote, 20)
    for number in range(1, 9):
        socket_times.append(per_call(remote, 40))
        local_times.append(per_call(local, 40))
        ratios.append(socket_times[-1] / local_times[-1])
        print(
            f"batch {number}: {label}: in-process {local_times[-1] * 1000:.2f} ms/call, over a socket "
            f"{socket_times[-1] * 1000:.2f} ms/call, ratio {ratios[-1]:.2f}"
        )
    return statistics.median(ratios), min(socket_times) / min(local_times)


def sdk_rounds(base_url: str, label: str) -> tuple[float, float]:
    """The SDK's `models.list()` in-process (httpx2 transport) against the same call over a socket."""
    http = httpx2.Client(transport=SyncASGITransport(create_app(SETTINGS)))
    with (
        openai.OpenAI(api_key=KEY, base_url="http://ftemu/v1", http_client=http) as local,
        openai.OpenAI(api_key=KEY, base_url=base_url) as remote,
    ):
        return compare(local.models.list, remote.models.list, f"SDK models.list, socket to {label}")


def http_rounds(base_url: str) -> tuple[float, float]:
    """A bare httpx2 GET /v1/models, in-process against over a socket: the transports without the SDK's cost."""
    headers = {"Authorization": f"Bearer {KEY}"}
    transport = SyncASGITransport(create_app(SETTINGS))
    with (
        httpx2.Client(transport=transport, base_url="http://ftemu/v1", headers=headers) as local,
        httpx2.Client(base_url=base_url, headers=headers) as remote,
    ):
        return compare(lambda: local.get("/models"), lambda: remote.get("/models"), "httpx2 GET /v1/models")


SCOPE: dict[str, Any] = {
    "type": "http",
    "asgi": {"version": "3.0"},
    "http_version": "1.1",
    "method": "GET",
    "path": "/v1/models",
    "raw_path": b"/v1/models",
    "query_string": b"",
    "headers": [(b"authorization", f"Bearer {KEY}".encode()), (b"host", b"ftemu")],
    "scheme": "http",
    "server": ("ftemu", 80),
    "client": ("127.0.0.1", 1),
    "root_path": "",
}


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _send(message: dict[str, Any]) -> None:
    pass


async def _trivial(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"{}"})


def best_seconds(app: Any, calls: int) -> float:
    """Seconds per GET /v1/models straight through the ASGI app (no client, no socket), best of one batch."""

    async def run() -> float:
        started = time.perf_counter()
        for _ in range(calls):
            await app(dict(SCOPE), _receive, _send)
        return (time.perf_counter() - started) / calls

    return asyncio.run(run())


def overhead_rounds() -> tuple[float, float]:
    """(the middleware's own cost / a whole GET /v1/models, whole app with / without it - 1), best batches."""
    with_it = create_app(SETTINGS)
    without_it = create_app(SETTINGS)
    without_it.user_middleware = [m for m in without_it.user_middleware if m.cls is not ControlPlane]
    wrapped = ControlPlane(_trivial, with_it.state.core)
    runs: dict[str, list[float]] = {"full": [], "bare": [], "wrapped": [], "trivial": []}
    apps = {"full": with_it, "bare": without_it, "wrapped": wrapped, "trivial": _trivial}
    for _ in range(15):  # alternating batches; the best of each is the least disturbed by neighbours
        for name, app in apps.items():
            runs[name].append(best_seconds(app, 300 if name in ("full", "bare") else 3000))
        with_it.state.core.journal.clear()
    best = {name: min(times) for name, times in runs.items()}
    own = best["wrapped"] - best["trivial"]
    print(
        f"GET /v1/models through the ASGI app: {best['bare'] * 1e6:.0f} us without the control plane, "
        f"{best['full'] * 1e6:.0f} us with it; the middleware alone (around a trivial app): {own * 1e6:.1f} us"
    )
    return own / best["bare"], best["full"] / best["bare"] - 1


def main() -> None:
    with LiveServer(SETTINGS) as live:
        same = sdk_rounds(live.base_url, "a LiveServer thread")
        bare = http_rounds(live.base_url)
    port = free()
    with server(ftemu_command(port, "--clock", "manual", "--speed", "instant"), port, "/v1/models"):
        other = sdk_rounds(f"http://127.0.0.1:{port}/v1", "an `ftemu serve` process")
    for (median, best), label in (
        (same, "SDK calls, socket to a LiveServer thread (the fixtures' socket link)"),
        (other, "SDK calls, socket to an `ftemu serve` process"),
        (bare, "bare httpx2 calls (no SDK), socket to a LiveServer thread"),
    ):
        print(
            f"in-process vs over a socket, {label}: {median:.2f}x faster (median of batches), {best:.2f}x "
            "(best batch against best batch) (target >= 2x)"
        )
    own, whole = overhead_rounds()
    print(
        f"control plane with no fault set: {own * 100:.1f} % of a GET /v1/models (its own cost around a trivial "
        f"app), {whole * 100:+.1f} % (whole app with it vs without; best batches) (target < 5 %)"
    )


if __name__ == "__main__":
    main()
