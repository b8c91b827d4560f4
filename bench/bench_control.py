"""Issue 16: the control plane's cost (faults and journal) with no fault set (target: < 5 % on GET /v1/models).

Measured side by side in one run, in alternating batches so a noisy neighbour hits every side alike, medians:
GET /v1/models through the ASGI app with and without the control plane's middleware (carrying the headers the
current `openai` SDK sends), the middleware's own cost around a trivial app, and over HTTP (`ftemu serve` holding
the app with and without it, wrk alternating the two request by request). The SDK in-process against over a
socket is bench/bench_sdk.py.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx2
import openai
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from bench.bench_sdk import KEY, SERVE_FLAGS, SETTINGS
from bench.common import cpu_seconds, ensure_wrk, free, server_process
from emulator import Settings, create_app
from emulator.core.clock import monotonic
from emulator.core.container import Core
from emulator.http.faults import ControlPlane
from emulator.http.headers import request_id, with_openai_headers

ROUNDS = 21
PROCESSES, ROUNDS_PER_PROCESS = 3, 5  # over HTTP


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


ALTERNATE = """
local n = 0
request = function()
  n = n + 1
  if n % 2 == 0 then return wrk.format("GET", "/with/v1/models") end
  return wrk.format("GET", "/without/v1/models")
end
"""


class BothApps:
    """One server process holding both apps: `/with/...` reaches the emulator's app, `/without/...` the same app
    without the control plane (each sees the path without its prefix; both pay the same dispatch), each call
    timed in CPU time of the serving thread. `GET /stats` answers (and restarts) the totals.

    wrk alternates the two paths request by request, so both see the same machine from moment to moment: on this
    2-core machine shared with other tenants a 1 s round of either can run 25 % faster or slower than the next,
    and two processes can sit 10-20 % apart for reasons of their own; either swamped a 5 % target."""

    def __init__(self, settings: Settings) -> None:
        self.apps = {"/with": create_app(settings), "/without": without_control_plane(settings)}
        self.state = self.apps["/with"].state  # the server's warm-up reads the store here
        self.spent = {prefix: [0.0, 0] for prefix in self.apps}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        path: str = scope["path"]
        if path == "/stats":
            await self._stats(send)
            return
        prefix = "/without" if path.startswith("/without/") else "/with"
        inner = {**scope, "path": path[len(prefix) :], "raw_path": scope["raw_path"][len(prefix) :]}
        started = time.thread_time()
        await self.apps[prefix](inner, receive, send)
        spent = self.spent[prefix]
        spent[0] += time.thread_time() - started
        spent[1] += 1

    async def _stats(self, send: Send) -> None:
        body = json.dumps(self.spent).encode()
        self.spent = {prefix: [0.0, 0] for prefix in self.apps}
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"%d" % len(body))]})
        await send({"type": "http.response.body", "body": body})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        with_it, without_it = self.apps.values()
        async with with_it.router.lifespan_context(with_it), without_it.router.lifespan_context(without_it):
            await receive()  # lifespan.startup
            await send({"type": "lifespan.startup.complete"})
            await receive()  # lifespan.shutdown
        await send({"type": "lifespan.shutdown.complete"})


@contextmanager
def serving() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`ftemu serve` (its own main, uvicorn[standard]) in a process, serving BothApps."""
    port = free()
    command = [sys.executable, "-m", "bench.bench_control", "serve", "--memory", "--port", str(port)]
    with server_process([*command, *SERVE_FLAGS], port, "/with/v1/models") as (process, _):
        yield f"http://127.0.0.1:{port}", process


def run_wrk(command: list[str]) -> None:
    """Run wrk; a non-2xx answer (a refused key, a route gone) fails the bench instead of skewing it."""
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"wrk saw errors:\n{output}")


def http_overhead() -> float | None:
    """GET /v1/models over HTTP, with and without the control plane in one server process, wrk alternating the
    two request by request: the apps' CPU time per request apart, against the server's whole CPU per request
    (uvicorn's parsing and writing included). Returns the control plane's share (None without wrk)."""
    binary = ensure_wrk()
    if binary is None:
        print("GET /v1/models over HTTP: skipped (no wrk)")
        return None
    shares, apps, whole = [], {"/with": [], "/without": []}, []
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(ALTERNATE)
        script.flush()
        for _ in range(PROCESSES):
            with serving() as (url, process):
                command = [binary, "-t1", "-c8", "-s", script.name, "-H", f"Authorization: Bearer {KEY}"]
                run_wrk([*command, "-d2s", url])  # warm-up
                for _ in range(ROUNDS_PER_PROCESS):
                    httpx2.get(f"{url}/stats")
                    before = cpu_seconds(process) or 0.0
                    run_wrk([*command, "-d3s", url])
                    cpu = (cpu_seconds(process) or 0.0) - before
                    spent = httpx2.get(f"{url}/stats").json()
                    each = {prefix: seconds / count for prefix, (seconds, count) in spent.items()}
                    for prefix, seconds in each.items():
                        apps[prefix].append(seconds)
                    per_request = cpu / sum(count for _, count in spent.values())
                    extra = each["/with"] - each["/without"]
                    whole.append(per_request - extra / 2)  # a request without the control plane
                    shares.append(extra / whole[-1])
    print(
        f"GET /v1/models over HTTP (wrk alternating the two apps of one server process request by request, "
        f"{PROCESSES} processes of {ROUNDS_PER_PROCESS} 3 s rounds, medians): the app "
        f"{statistics.median(apps['/without']) * 1e6:.1f} us without the control plane, "
        f"{statistics.median(apps['/with']) * 1e6:.1f} us with it, of {statistics.median(whole) * 1e6:.1f} us of "
        f"the server's CPU a request (uvicorn's part included)"
    )
    return statistics.median(shares)


def main() -> None:
    own, whole = overhead_rounds()  # first, in a process that has done nothing else yet
    over_http = http_overhead()
    http = "" if over_http is None else f"; over HTTP {over_http * 100:+.1f} % of the server's CPU a request"
    print(
        f"control plane with no fault set: {own * 100:.1f} % of a GET /v1/models (its own cost around a trivial "
        f"app), {whole * 100:+.1f} % (whole ASGI app with it vs without; median of paired batches){http} "
        f"(target < 5 %)"
    )
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


def serve(argv: list[str]) -> int:
    """`python -m bench.bench_control serve FLAGS`: `ftemu serve FLAGS`, serving BothApps."""
    import client.cli_serve
    import emulator.server

    emulator.server.create_app = BothApps  # type: ignore[assignment,attr-defined]
    return client.cli_serve.main(argv)


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        sys.exit(serve(sys.argv[2:]))
    main()
