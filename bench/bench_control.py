"""Issue 16: the control plane's cost (faults and journal) with no fault set (target: < 5 % on GET /v1/models).

Measured side by side in one run, in alternating batches so a noisy neighbour hits every side alike, medians:
GET /v1/models through the ASGI app with and without the control plane's middleware (carrying the headers the
current `openai` SDK sends), the middleware's own cost around a trivial app, and over HTTP (`ftemu serve` with and
without it, under wrk). The SDK in-process against over a socket is bench/bench_sdk.py.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx2
import openai
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from bench.bench_sdk import KEY, SERVE_FLAGS, SETTINGS
from bench.common import cpu_seconds, free, server_process, wrk
from emulator import Settings, create_app
from emulator.core.clock import monotonic
from emulator.core.container import Core
from emulator.http.faults import ControlPlane
from emulator.http.headers import request_id, with_openai_headers

ROUNDS = 21
PAIRS, ROUNDS_PER_PAIR = 6, 5  # over HTTP


def sdk_headers() -> list[tuple[bytes, bytes]]:
    """The headers the current SDK sends with `models.list()`, named in lower case as a server hands them on."""
    sent: list[tuple[bytes, bytes]] = []

    def answer(request: httpx2.Request) -> httpx2.Response:
        sent.extend((name.lower(), value) for name, value in request.headers.raw)
        return httpx2.Response(200, json={"object": "list", "data": []})

    transport = httpx2.MockTransport(answer)
    with openai.OpenAI(api_key=KEY, base_url="http://ftemu/v1", http_client=httpx2.Client(transport=transport)) as sdk:
        sdk.models.list()
    return sent


SCOPE: dict[str, Any] = {
    "type": "http",
    "asgi": {"version": "3.0"},
    "http_version": "1.1",
    "method": "GET",
    "path": "/v1/models",
    "raw_path": b"/v1/models",
    "query_string": b"",
    "headers": sdk_headers(),
    "scheme": "http",
    "server": ("ftemu", 80),
    "client": ("127.0.0.1", 1),
    "root_path": "",
}


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _send(message: dict[str, Any]) -> None:
    pass


def trivial_route(core: Core) -> ASGIApp:
    """An app that notes the organisation, as every route does, and answers `{}`."""
    organization = core.auth.default

    async def route(scope: Scope, receive: Receive, send: Send) -> None:
        scope.setdefault("state", {})["organization"] = organization
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"{}"})

    return route


def seconds_per_call(app: Any, calls: int) -> float:
    """CPU seconds of this thread per GET /v1/models straight through the ASGI app (no client, no socket), over one
    batch: the call is single-threaded work, and CPU time leaves out the time a busy neighbour holds the core."""

    async def run() -> float:
        started = time.thread_time()
        for _ in range(calls):
            await app(dict(SCOPE), _receive, _send)
        return (time.thread_time() - started) / calls

    return asyncio.run(run())


class OpenAIHeaders:
    """The baseline: only the headers every response carries (the control plane adds them as it goes)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, with_openai_headers(scope, send, monotonic(), request_id()))


def without_control_plane(settings: Settings | None = None) -> Any:
    """The emulator's app with the control plane's middleware taken out (the baseline of its cost); the OpenAI
    headers, which the control plane adds as it goes, are added by the middleware that does only that."""
    app = create_app(settings)
    app.user_middleware = [Middleware(OpenAIHeaders) if m.cls is ControlPlane else m for m in app.user_middleware]
    return app


def overhead_rounds() -> tuple[float, float]:
    """(the middleware's own cost / a whole GET /v1/models, whole app with / without it - 1): medians of the
    paired alternating batches."""
    with_it = create_app(SETTINGS)
    without_it = without_control_plane(SETTINGS)
    trivial = trivial_route(with_it.state.core)
    wrapped = ControlPlane(trivial, with_it.state.core)
    runs: dict[str, list[float]] = {"full": [], "bare": [], "wrapped": [], "trivial": []}
    # Its own cost: around a trivial app, against the headers alone (which every response carries either way).
    apps = {"full": with_it, "bare": without_it, "wrapped": wrapped, "trivial": OpenAIHeaders(trivial)}
    for round_ in range(ROUNDS + 1):  # the first is a warm-up (and fills part of the journal)
        for name, app in apps.items():
            seconds = seconds_per_call(app, 500 if name in ("full", "bare") else 5000)
            if round_:
                runs[name].append(seconds)
    median = {name: statistics.median(times) for name, times in runs.items()}
    own = statistics.median(
        wrapped - trivial for wrapped, trivial in zip(runs["wrapped"], runs["trivial"], strict=True)
    )
    whole = statistics.median(full / bare for full, bare in zip(runs["full"], runs["bare"], strict=True))
    print(
        f"GET /v1/models through the ASGI app, with the {len(SCOPE['headers'])} headers the SDK sends (CPU time, "
        f"median of {ROUNDS} alternating batches): {median['bare'] * 1e6:.1f} us without the control plane, "
        f"{median['full'] * 1e6:.1f} us with it (best batches {min(runs['bare']) * 1e6:.1f} and "
        f"{min(runs['full']) * 1e6:.1f}); the middleware alone (around a trivial app): {own * 1e6:.2f} us"
    )
    return own / median["bare"], whole - 1


@contextmanager
def serving(*flags: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`ftemu serve` (its own main, uvicorn[standard]) in a process; `--without-control-plane` for the baseline."""
    port = free()
    command = [sys.executable, "-m", "bench.bench_control", "serve", *flags, "--memory", "--port", str(port)]
    with server_process([*command, *SERVE_FLAGS], port, "/v1/models") as (process, _):
        yield f"http://127.0.0.1:{port}", process


def http_overhead() -> tuple[float, float]:
    """GET /v1/models under wrk, `ftemu serve` with and without the control plane, alternating rounds: (time per
    request, the server's CPU per request), each with / without - 1, medians of the paired rounds.

    One pair of server processes can be 10-20 % apart for reasons of their own (hash seeds, memory layout, where
    the host put them), so the rounds are spread over PAIRS fresh pairs; on 2 cores wrk and the server share the
    machine, and the server's own CPU time per request is the steadier figure."""
    rates: dict[str, list[float]] = {"with": [], "without": []}
    cpu: dict[str, list[float]] = {"with": [], "without": []}
    for _ in range(PAIRS):
        with serving() as with_side, serving("--without-control-plane") as without_side:
            sides = {"with": with_side, "without": without_side}
            for url, _ in sides.values():
                wrk(f"{url}/v1/models", seconds=1, threads=1, connections=8)
            for round_ in range(ROUNDS_PER_PAIR):
                order = list(sides.items()) if round_ % 2 == 0 else list(reversed(sides.items()))  # ABBA
                for side, (url, process) in order:
                    before = cpu_seconds(process) or 0.0
                    rate = wrk(f"{url}/v1/models", seconds=1, threads=1, connections=8)
                    rates[side].append(rate)
                    cpu[side].append(((cpu_seconds(process) or 0.0) - before) / rate)
    median = {side: statistics.median(values) for side, values in rates.items()}
    per_request = {side: statistics.median(values) * 1e6 for side, values in cpu.items()}
    print(
        f"GET /v1/models over HTTP (wrk, 1 thread, 8 connections, {PAIRS} pairs of fresh servers, "
        f"{ROUNDS_PER_PAIR} alternating 1 s rounds each): {median['without']:.0f} req/s without the control plane, "
        f"{median['with']:.0f} req/s with it; the server's CPU per request {per_request['without']:.1f} us "
        f"without, {per_request['with']:.1f} us with it"
    )
    slower = statistics.median(w / o for w, o in zip(rates["without"], rates["with"], strict=True)) - 1
    busier = statistics.median(w / o for w, o in zip(cpu["with"], cpu["without"], strict=True)) - 1
    return slower, busier


def main() -> None:
    own, whole = overhead_rounds()  # first, in a process that has done nothing else yet
    slower, busier = http_overhead()
    print(
        f"control plane with no fault set: {own * 100:.1f} % of a GET /v1/models (its own cost around a trivial "
        f"app), {whole * 100:+.1f} % (whole ASGI app with it vs without; median of paired batches); over HTTP "
        f"{slower * 100:+.1f} % time per request (wrk), {busier * 100:+.1f} % server CPU per request (target < 5 %)"
    )
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


def serve(argv: list[str]) -> int:
    """`python -m bench.bench_control serve [--without-control-plane] FLAGS`: `ftemu serve FLAGS` (the baseline)."""
    import client.cli_serve
    import emulator.server

    if "--without-control-plane" in argv:
        argv = [arg for arg in argv if arg != "--without-control-plane"]
        emulator.server.create_app = without_control_plane  # type: ignore[assignment,attr-defined]
    return client.cli_serve.main(argv)


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        sys.exit(serve(sys.argv[2:]))
    main()
