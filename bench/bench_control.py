"""Issue 16: the SDK in-process (httpx2 transports, no socket) vs over a socket, and the control plane's cost.

Everything is measured side by side in one run, in alternating batches so a noisy neighbour hits every side alike:
1. five kinds of call of the current `openai` SDK, sync and async: with no app at all (a transport that replays a
   recorded response: the floor, what the SDK and httpx2 cost by themselves), in-process (conformance.transport),
   and over a socket to a LiveServer thread (the fixtures' socket link) and to an `ftemu serve` process (target:
   in-process >= 2x faster; socket / floor is the most any in-process transport could reach);
2. the control plane (faults and journal) with no fault set: GET /v1/models through the ASGI app with and without
   its middleware, the middleware's own cost around a trivial app, and over HTTP (`ftemu serve` with and without
   it, under wrk) (target: < 5 % overhead).
"""

from __future__ import annotations

import asyncio
import io
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx2
import openai
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from bench.common import free, server, wrk
from conformance.transport import ASGITransport, SyncASGITransport
from emulator import Settings, create_app
from emulator.core.clock import monotonic
from emulator.http.faults import ControlPlane
from emulator.http.headers import request_id, with_openai_headers
from emulator.testing import LiveServer

KEY = "sk-bench-0123456789abcdef"
SETTINGS = Settings(memory=True, clock="manual", speed="instant", seed=1)
SERVE_FLAGS = ("--clock", "manual", "--speed", "instant", "--log-level", "warning")
LINES = b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}\n' * 10
BATCHES, CALLS = 9, 25
TUNED = "gpt-4o-mini-2024-07-18"
Call = Callable[[], Any]
AsyncCall = Callable[[], Awaitable[Any]]


class Replay(httpx2.BaseTransport):
    """The floor: each (method, path) answered with the response `inner` gave the first time; no app runs."""

    def __init__(self, inner: httpx2.BaseTransport) -> None:
        self.inner = inner
        self.seen: dict[tuple[str, str], tuple[int, list[tuple[bytes, bytes]], bytes]] = {}

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        request.read()  # the SDK's request is built and encoded as for any transport
        key = (request.method, request.url.path)
        if key not in self.seen:
            response = self.inner.handle_request(request)
            self.seen[key] = (response.status_code, response.headers.raw, response.read())
        status, headers, content = self.seen[key]
        return httpx2.Response(status, headers=headers, stream=httpx2.ByteStream(content))


class AsyncReplay(httpx2.AsyncBaseTransport):
    """The same floor for the async client."""

    def __init__(self, inner: httpx2.AsyncBaseTransport) -> None:
        self.inner = inner
        self.seen: dict[tuple[str, str], tuple[int, list[tuple[bytes, bytes]], bytes]] = {}

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        await request.aread()
        key = (request.method, request.url.path)
        if key not in self.seen:
            response = await self.inner.handle_async_request(request)
            self.seen[key] = (response.status_code, response.headers.raw, await response.aread())
        status, headers, content = self.seen[key]
        return httpx2.Response(status, headers=headers, stream=httpx2.ByteStream(content))


def call_table(client: openai.OpenAI | openai.AsyncOpenAI, job: str) -> dict[str, Any]:
    """The five calls (each returns a coroutine for the async client), against a job of this target's own."""
    return {
        "models.list": lambda: client.models.list(),
        "models.retrieve": lambda: client.models.retrieve("davinci-002"),
        "files.create": lambda: client.files.create(file=("t.jsonl", io.BytesIO(LINES)), purpose="fine-tune"),
        "fine_tuning.jobs.retrieve": lambda: client.fine_tuning.jobs.retrieve(job),
        "chat.completions.create": lambda: client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        ),
    }


def sync_calls(client: openai.OpenAI) -> dict[str, Call]:
    training = client.files.create(file=("train.jsonl", io.BytesIO(LINES)), purpose="fine-tune")
    return call_table(client, client.fine_tuning.jobs.create(model=TUNED, training_file=training.id).id)


async def async_calls(client: openai.AsyncOpenAI) -> dict[str, AsyncCall]:
    training = await client.files.create(file=("train.jsonl", io.BytesIO(LINES)), purpose="fine-tune")
    return call_table(client, (await client.fine_tuning.jobs.create(model=TUNED, training_file=training.id)).id)


def per_call(call: Call, calls: int) -> float:
    """Mean wall seconds per call over one batch."""
    started = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - started) / calls


async def per_async_call(call: AsyncCall, calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        await call()
    return (time.perf_counter() - started) / calls


def print_table(title: str, times: dict[str, dict[str, list[float]]]) -> None:
    """Medians per call kind and side, and the ratios a note may quote."""
    print(f"{title} (median ms per call over {BATCHES} alternating batches of {CALLS}):")
    print(
        f"  {'call':26} {'floor':>7} {'in-proc':>8} {'thread':>8} {'process':>8}   socket/in-process "
        "(thread, process)   ceiling: socket/floor (thread, process)"
    )
    for kind, sides in times.items():
        ms = {side: statistics.median(batches) * 1000 for side, batches in sides.items()}
        print(
            f"  {kind:26} {ms['floor']:7.3f} {ms['in-process']:8.3f} {ms['thread']:8.3f} {ms['process']:8.3f}   "
            f"{ms['thread'] / ms['in-process']:5.2f}x {ms['process'] / ms['in-process']:5.2f}x"
            f"{'':19}{ms['thread'] / ms['floor']:5.2f}x {ms['process'] / ms['floor']:5.2f}x"
        )


def sdk_rounds(thread_url: str, process_url: str) -> dict[str, dict[str, list[float]]]:
    app = create_app(SETTINGS)
    clients = {
        "floor": openai.OpenAI(
            api_key=KEY, base_url="http://ftemu/v1", http_client=httpx2.Client(transport=Replay(SyncASGITransport(app)))
        ),
        "in-process": openai.OpenAI(
            api_key=KEY, base_url="http://ftemu/v1", http_client=httpx2.Client(transport=SyncASGITransport(app))
        ),
        "thread": openai.OpenAI(api_key=KEY, base_url=thread_url),
        "process": openai.OpenAI(api_key=KEY, base_url=process_url),
    }
    calls = {side: sync_calls(client) for side, client in clients.items()}
    times: dict[str, dict[str, list[float]]] = {}
    for kind in calls["floor"]:
        times[kind] = {side: [] for side in clients}
        for side in clients:
            per_call(calls[side][kind], 5)
        for _ in range(BATCHES):
            for side in clients:
                times[kind][side].append(per_call(calls[side][kind], CALLS))
    for client in clients.values():
        client.close()
    return times


async def async_sdk_rounds(thread_url: str, process_url: str) -> dict[str, dict[str, list[float]]]:
    app = create_app(SETTINGS)
    clients = {
        "floor": openai.AsyncOpenAI(
            api_key=KEY,
            base_url="http://ftemu/v1",
            http_client=httpx2.AsyncClient(transport=AsyncReplay(ASGITransport(app))),
        ),
        "in-process": openai.AsyncOpenAI(
            api_key=KEY, base_url="http://ftemu/v1", http_client=httpx2.AsyncClient(transport=ASGITransport(app))
        ),
        "thread": openai.AsyncOpenAI(api_key=KEY, base_url=thread_url),
        "process": openai.AsyncOpenAI(api_key=KEY, base_url=process_url),
    }
    calls = {side: await async_calls(client) for side, client in clients.items()}
    times: dict[str, dict[str, list[float]]] = {}
    for kind in calls["floor"]:
        times[kind] = {side: [] for side in clients}
        for side in clients:
            await per_async_call(calls[side][kind], 5)
        for _ in range(BATCHES):
            for side in clients:
                times[kind][side].append(await per_async_call(calls[side][kind], CALLS))
    for client in clients.values():
        await client.close()
    return times


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
    """Seconds per GET /v1/models straight through the ASGI app (no client, no socket), over one batch."""

    async def run() -> float:
        started = time.perf_counter()
        for _ in range(calls):
            await app(dict(SCOPE), _receive, _send)
        return (time.perf_counter() - started) / calls

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
    """(the middleware's own cost / a whole GET /v1/models, whole app with / without it - 1), best batches."""
    with_it = create_app(SETTINGS)
    without_it = without_control_plane(SETTINGS)
    wrapped = ControlPlane(_trivial, with_it.state.core)
    runs: dict[str, list[float]] = {"full": [], "bare": [], "wrapped": [], "trivial": []}
    # Its own cost: around a trivial app, against the headers alone (which every response carries either way).
    apps = {"full": with_it, "bare": without_it, "wrapped": wrapped, "trivial": OpenAIHeaders(_trivial)}
    for _ in range(21):  # alternating batches; the best of each is the least disturbed by neighbours
        for name, app in apps.items():
            runs[name].append(best_seconds(app, 500 if name in ("full", "bare") else 5000))
    best = {name: min(times) for name, times in runs.items()}
    own = best["wrapped"] - best["trivial"]
    print(
        f"GET /v1/models through the ASGI app (best of 21 alternating batches): {best['bare'] * 1e6:.1f} us without "
        f"the control plane, {best['full'] * 1e6:.1f} us with it; the middleware alone (around a trivial app): "
        f"{own * 1e6:.2f} us"
    )
    return own / best["bare"], best["full"] / best["bare"] - 1


@contextmanager
def serving(*flags: str) -> Iterator[str]:
    """`ftemu serve` (its own main, uvicorn[standard]) in a process; `--without-control-plane` for the baseline."""
    port = free()
    command = [sys.executable, "-m", "bench.bench_control", "serve", *flags, "--memory", "--port", str(port)]
    with server([*command, *SERVE_FLAGS], port, "/v1/models"):
        yield f"http://127.0.0.1:{port}"


def http_overhead() -> float:
    """Requests/s of GET /v1/models under wrk, `ftemu serve` with and without the control plane, alternating."""
    rates: dict[str, list[float]] = {"with": [], "without": []}
    with serving() as with_url, serving("--without-control-plane") as without_url:
        urls = {"with": with_url, "without": without_url}
        for url in urls.values():
            wrk(f"{url}/v1/models", seconds=1, threads=1, connections=8)
        for _ in range(5):
            for side, url in urls.items():
                rates[side].append(wrk(f"{url}/v1/models", seconds=3, threads=1, connections=8))
    median = {side: statistics.median(values) for side, values in rates.items()}
    print(
        f"GET /v1/models over HTTP (wrk, 1 thread, 8 connections, median of 5 alternating 3 s rounds): "
        f"{median['without']:.0f} req/s without the control plane, {median['with']:.0f} req/s with it"
    )
    return median["without"] / median["with"] - 1


def main() -> None:
    own, whole = overhead_rounds()  # first, in a process that has done nothing else yet
    slower = http_overhead()
    with LiveServer(SETTINGS) as live, serving() as process:
        print_table("sync SDK (openai.OpenAI)", sdk_rounds(live.base_url, f"{process}/v1"))
        print_table("async SDK (openai.AsyncOpenAI)", asyncio.run(async_sdk_rounds(live.base_url, f"{process}/v1")))
    print("(target: in-process >= 2x faster than over a socket; the ceiling is what a transport costing nothing gets)")
    print(
        f"control plane with no fault set: {own * 100:.1f} % of a GET /v1/models (its own cost around a trivial "
        f"app), {whole * 100:+.1f} % (whole ASGI app with it vs without; best batches), {slower * 100:+.1f} % "
        "time per request over HTTP (wrk) (target < 5 %)"
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
