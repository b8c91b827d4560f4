"""Issue 16: the current `openai` SDK in-process (httpx2 transports, no socket) against over a socket.

Four sides, measured in alternating batches in one run so a noisy neighbour hits every side alike, with the same
calls and the same answers each way:
- `floor`: no app at all, a transport that replays the in-process side's last answer on that route (what the SDK
  and httpx2 cost by themselves, on the same bytes: the most any in-process transport could reach is socket /
  floor);
- `in-process`: conformance.transport's ASGITransport / SyncASGITransport on an app of its own;
- `thread`: a LiveServer thread in this process (the fixtures' socket link);
- `process`: an `ftemu serve` process.
The in-process app is wrapped in a timer, so each call's time splits into the SDK alone (floor), the app's own
work (the same over a socket) and what is left: the transport. Two tables, sync and async: each kind of call on
its own, and a fine-tuning user's session (upload, create, poll, events, checkpoints, jobs, models, chat with the
tuned model, clean-up), whose total is the overall figure. Target: in-process >= 2x faster than over a socket.
"""

from __future__ import annotations

import asyncio
import io
import re
import statistics
import subprocess
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import httpx2
import openai

from bench.common import free, ftemu_serve_command, server
from conformance.transport import ASGITransport, SyncASGITransport
from emulator import Settings, create_app
from emulator.testing import LiveServer

KEY = "sk-bench-0123456789abcdef"
SETTINGS = Settings(memory=True, clock="manual", speed="instant", seed=1)
SERVE_FLAGS = ("--clock", "manual", "--speed", "instant", "--log-level", "warning")
LINES = b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}\n' * 10
TUNED = "gpt-4o-mini-2024-07-18"
SIDES = ("in-process", "floor", "thread", "process")  # in-process first: the floor replays its answers
BATCHES, CALLS = 9, 25  # per kind of call: alternating batches of CALLS calls on each side
ROUNDS, SESSIONS = 9, 2  # the session: alternating rounds of SESSIONS sessions on each side
HI: list[Any] = [{"role": "user", "content": "hi"}]
Client = openai.OpenAI | openai.AsyncOpenAI
Times = dict[str, list[float]]
_IDS = re.compile(r"/(file-|ftjob-|ft:)[^/]*")


def route(method: str, path: str) -> tuple[str, str]:
    """A request's route: its method and path with the ids of files, jobs and tuned models as `*`."""
    return method, _IDS.sub("/*", path)


Answer = tuple[int, list[tuple[bytes, bytes]], bytes]
Answers = dict[tuple[str, str], httpx2.Response]


class Recorder(httpx2.BaseTransport):
    """The in-process transport, keeping the last response of each route (a reference: no copy, no cost to speak
    of) for the floor to replay."""

    def __init__(self, inner: httpx2.BaseTransport) -> None:
        self.inner = inner
        self.answers: Answers = {}

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        response = self.inner.handle_request(request)
        self.answers[route(request.method, request.url.path)] = response
        return response


class AsyncRecorder(httpx2.AsyncBaseTransport):
    def __init__(self, inner: httpx2.AsyncBaseTransport) -> None:
        self.inner = inner
        self.answers: Answers = {}

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await self.inner.handle_async_request(request)
        self.answers[route(request.method, request.url.path)] = response
        return response


class Replayer:
    """The floor's answers: the in-process side's last response on each route, as a fresh response (no app runs);
    its parts are taken once per recorded response."""

    def __init__(self, answers: Answers) -> None:
        self.answers = answers
        self.parts: dict[tuple[str, str], tuple[httpx2.Response, Answer]] = {}

    def answer(self, request: httpx2.Request) -> httpx2.Response:
        key = route(request.method, request.url.path)
        recorded = self.answers[key]
        kept = self.parts.get(key)
        if kept is None or kept[0] is not recorded:  # the SDK has read its body
            kept = self.parts[key] = (recorded, (recorded.status_code, recorded.headers.raw, recorded.content))
        status, headers, content = kept[1]
        return httpx2.Response(status, headers=headers, stream=httpx2.ByteStream(content))


class Replay(httpx2.BaseTransport):
    """The floor: the SDK's request built and encoded as for any transport, then a recorded answer."""

    def __init__(self, answers: Answers) -> None:
        self.replayer = Replayer(answers)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        request.read()
        return self.replayer.answer(request)


class AsyncReplay(httpx2.AsyncBaseTransport):
    def __init__(self, answers: Answers) -> None:
        self.replayer = Replayer(answers)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        await request.aread()
        return self.replayer.answer(request)


class Timed:
    """An ASGI app timed from its call to its return, each time under the kind of call being made."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.kind = ""
        self.times: Times = {}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            self.times.setdefault(self.kind, []).append(time.perf_counter() - started)


def call_table(client: Client, job: str) -> dict[str, Callable[[], Any]]:
    """The calls timed one kind at a time (each returns a coroutine for the async client)."""
    return {
        "models.list": lambda: client.models.list(),
        "models.retrieve": lambda: client.models.retrieve("davinci-002"),
        "files.create": lambda: client.files.create(file=("t.jsonl", io.BytesIO(LINES)), purpose="fine-tune"),
        "fine_tuning.jobs.retrieve": lambda: client.fine_tuning.jobs.retrieve(job),
        "fine_tuning.jobs.list_events": lambda: client.fine_tuning.jobs.list_events(job),
        "chat.completions.create": lambda: client.chat.completions.create(model="gpt-4o-mini", messages=HI),
    }


Step = tuple[str, Callable[[Any], Any]]


def session() -> Generator[Step, Any, None]:
    """A fine-tuning user's session, one call at a time: (kind, call of the client); each call's result is sent back."""
    file = yield "files.create", lambda c: c.files.create(file=("train.jsonl", io.BytesIO(LINES)), purpose="fine-tune")
    job = yield "fine_tuning.jobs.create", lambda c: c.fine_tuning.jobs.create(model=TUNED, training_file=file.id)
    for _ in range(3):  # polling until it is done
        job = yield "fine_tuning.jobs.retrieve", _retrieving(job.id)
    yield "fine_tuning.jobs.list_events", lambda c: c.fine_tuning.jobs.list_events(job.id)
    yield "fine_tuning.jobs.checkpoints.list", lambda c: c.fine_tuning.jobs.checkpoints.list(job.id)
    yield "fine_tuning.jobs.list", lambda c: c.fine_tuning.jobs.list(limit=10)
    yield "models.list", lambda c: c.models.list()
    yield "models.retrieve", lambda c: c.models.retrieve(job.fine_tuned_model)
    for _ in range(2):
        yield "chat.completions.create", lambda c: c.chat.completions.create(model=job.fine_tuned_model, messages=HI)
    yield "models.delete", lambda c: c.models.delete(job.fine_tuned_model)  # so every session starts alike
    yield "files.delete", lambda c: c.files.delete(file.id)


def _retrieving(job: str) -> Callable[[Any], Any]:
    return lambda client: client.fine_tuning.jobs.retrieve(job)


class SessionRun:
    """One session's calls in turn, each one's wall time added to `times` under its kind (the app's to `timed`)."""

    def __init__(self, times: Times, timed: Timed | None) -> None:
        self.steps = session()
        self.times, self.timed = times, timed
        self.kind, self.started = "", 0.0

    def next(self, result: Any) -> Callable[[Any], Any] | None:
        """The next call, once the last one (which gave `result`) is timed; None at the end."""
        if self.kind:
            self.times.setdefault(self.kind, []).append(time.perf_counter() - self.started)
        try:
            self.kind, call = self.steps.send(result)
        except StopIteration:
            return None
        if self.timed is not None:
            self.timed.kind = self.kind
        self.started = time.perf_counter()
        return call


class Results:
    """Per side and kind of call, each batch's (or round's) mean seconds per call, in the order they ran: batch i of
    every side ran side by side, so ratios and differences are taken batch by batch, then their median."""

    def __init__(self) -> None:
        self.batches: dict[str, dict[str, list[float]]] = {side: {} for side in SIDES}
        self.app: dict[str, float] = {}
        self.app_total = 0.0
        self.sessions: dict[str, list[float]] = {side: [] for side in SIDES}

    def add(self, side: str, times: Times, counted: bool, session: float | None = None) -> None:
        """One batch's times per kind (and a session's mean seconds), unless it was a warm-up."""
        if not counted:
            return
        for kind, seconds in times.items():
            self.batches[side].setdefault(kind, []).append(statistics.mean(seconds))
        if session is not None:
            self.sessions[side].append(session)

    def print(self, title: str) -> None:
        print(f"{title} (ms per call: medians of {len(self.sessions['floor']) or BATCHES} alternating batches)")
        print(
            f"  {'call':34} {'SDK':>6} {'app':>6} {'transp':>6} {'in-proc':>7} {'thread':>7} {'process':>7}   "
            "socket/in-process (thread, process)   bound by the app: socket/(SDK+app)   by the SDK: socket/SDK"
        )
        for kind in self.batches["floor"]:
            times = {side: self.batches[side][kind] for side in SIDES}
            self._line(kind, times, self.app[kind], 3)
        if self.sessions["floor"]:
            self._line("the whole session", self.sessions, self.app_total / (ROUNDS * SESSIONS), 1)

    @staticmethod
    def _line(name: str, times: dict[str, list[float]], app: float, digits: int) -> None:
        ms = {side: statistics.median(values) * 1000 for side, values in times.items()}
        transport = statistics.median(i - f for i, f in zip(times["in-process"], times["floor"], strict=True)) * 1000
        socket = [_paired(times[side], times["in-process"]) for side in ("thread", "process")]
        sdk = [_paired(times[side], times["floor"]) for side in ("thread", "process")]
        print(
            f"  {name:34} {ms['floor']:6.{digits}f} {app:6.{digits}f} {transport - app:6.{digits}f} "
            f"{ms['in-process']:7.{digits}f} {ms['thread']:7.{digits}f} {ms['process']:7.{digits}f}   "
            f"{socket[0]:5.2f}x {socket[1]:5.2f}x{'':27}{ms['thread'] / (ms['floor'] + app):5.2f}x "
            f"{ms['process'] / (ms['floor'] + app):5.2f}x{'':25}{sdk[0]:5.2f}x {sdk[1]:5.2f}x"
        )


def _paired(over: list[float], under: list[float]) -> float:
    """The median of the batch-by-batch ratios."""
    return statistics.median(a / b for a, b in zip(over, under, strict=True))


def app_ms(timed: Timed, results: Results) -> None:
    """The app's own time per kind: the median over the in-process side's calls."""
    results.app.update({kind: statistics.median(seconds) * 1000 for kind, seconds in timed.times.items() if kind})
    results.app_total = sum(sum(seconds) for kind, seconds in timed.times.items() if kind) * 1000


def batches(kinds: Iterable[str], timed: Timed) -> Iterator[tuple[str, str, bool]]:
    """(kind, side, counted) for each batch: every side in turn, BATCHES times a kind after a warm-up."""
    for kind in kinds:
        timed.kind = kind
        for batch in range(BATCHES + 1):
            for side in SIDES:
                yield kind, side, batch > 0


def rounds(timed: Timed) -> Iterator[tuple[str, Timed | None, bool]]:
    """(side, the app's timer if its calls count, counted) for each round of sessions, after a warm-up round."""
    timed.times.clear()
    timed.kind = ""  # the warm-up round's calls are not counted
    for round_ in range(ROUNDS + 1):
        for side in SIDES:
            yield side, timed if round_ and side == "in-process" else None, round_ > 0


Steps = Generator[Callable[[], Any], Any, None]


def next_step(steps: Steps, result: Any) -> Callable[[], Any] | None:
    """The next call `steps` wants made, once it has the last one's result; None at the end."""
    try:
        return steps.send(result)
    except StopIteration:
        return None


def measure(clients: dict[str, Any], timed: Timed, results: Results, sessions: Results) -> Steps:
    """Everything this bench times, one call at a time for the driver to make (sync or async) and send back."""
    calls = {}
    for side, client in clients.items():  # in-process first: the floor replays its answers
        training = yield partial(client.files.create, file=("train.jsonl", io.BytesIO(LINES)), purpose="fine-tune")
        job = yield partial(client.fine_tuning.jobs.create, model=TUNED, training_file=training.id)
        calls[side] = call_table(client, job.id)
    for kind, side, counted in batches(calls["floor"], timed):
        times: Times = {kind: []}
        for _ in range(CALLS):
            started = time.perf_counter()
            yield calls[side][kind]
            times[kind].append(time.perf_counter() - started)
        results.add(side, times, counted)
    app_ms(timed, results)
    for side, timing, counted in rounds(timed):
        times, started = {}, time.perf_counter()
        for _ in range(SESSIONS):
            run, result = SessionRun(times, timing), None
            while (call := run.next(result)) is not None:
                result = yield partial(call, clients[side])
        sessions.add(side, times, counted, (time.perf_counter() - started) / SESSIONS)
    app_ms(timed, sessions)


def sync_rounds(thread_url: str, process_url: str, results: Results, sessions: Results) -> None:
    timed = Timed(create_app(SETTINGS))
    recorder = Recorder(SyncASGITransport(timed))
    transports: dict[str, httpx2.BaseTransport] = {"in-process": recorder, "floor": Replay(recorder.answers)}
    clients = {
        side: openai.OpenAI(api_key=KEY, base_url="http://ftemu/v1", http_client=httpx2.Client(transport=transport))
        for side, transport in transports.items()
    }
    clients["thread"] = openai.OpenAI(api_key=KEY, base_url=thread_url)
    clients["process"] = openai.OpenAI(api_key=KEY, base_url=process_url)
    steps, result = measure(clients, timed, results, sessions), None
    while (call := next_step(steps, result)) is not None:
        result = call()
    for client in clients.values():
        client.close()


async def async_rounds(thread_url: str, process_url: str, results: Results, sessions: Results) -> None:
    timed = Timed(create_app(SETTINGS))
    recorder = AsyncRecorder(ASGITransport(timed))
    transports: dict[str, httpx2.AsyncBaseTransport] = {"in-process": recorder, "floor": AsyncReplay(recorder.answers)}
    clients = {
        side: openai.AsyncOpenAI(
            api_key=KEY, base_url="http://ftemu/v1", http_client=httpx2.AsyncClient(transport=transport)
        )
        for side, transport in transports.items()
    }
    clients["thread"] = openai.AsyncOpenAI(api_key=KEY, base_url=thread_url)
    clients["process"] = openai.AsyncOpenAI(api_key=KEY, base_url=process_url)
    steps, result = measure(clients, timed, results, sessions), None
    while (call := next_step(steps, result)) is not None:
        result = await call()
    for client in clients.values():
        await client.close()


@contextmanager
def sockets() -> Iterator[tuple[str, str]]:
    """Fresh servers (a LiveServer thread, an `ftemu serve` process) for one phase: (thread URL, process URL)."""
    port = free()
    with LiveServer(SETTINGS) as live, server(ftemu_serve_command(port, *SERVE_FLAGS), port, "/v1/models"):
        yield live.base_url, f"http://127.0.0.1:{port}/v1"


def main() -> None:
    with sockets() as (thread, process):
        results, sessions = Results(), Results()
        sync_rounds(thread, process, results, sessions)
    results.print("sync SDK (openai.OpenAI), one kind of call at a time")
    sessions.print(f"sync SDK, a fine-tuning user's session ({ROUNDS} rounds of {SESSIONS})")
    with sockets() as (thread, process):
        results, sessions = Results(), Results()
        asyncio.run(async_rounds(thread, process, results, sessions))
    results.print("async SDK (openai.AsyncOpenAI), one kind of call at a time")
    sessions.print(f"async SDK, a fine-tuning user's session ({ROUNDS} rounds of {SESSIONS})")
    print(
        "(target: in-process >= 2x faster than over a socket. SDK: the floor, no app; app: its own time in-process;\n"
        " transp: in-process - SDK - app. A call whose 'by the SDK' ratio is under 2x cannot reach 2x with any\n"
        " transport; one whose 'by the app' ratio is under 2x cannot with this app's work, the same both ways)"
    )
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
