"""httpx2 transports that call an ASGI app in-process and stream its response, as a socket would.

httpx2's own ASGITransport reads the whole response before returning it: an event stream that waits for a job
would never return, and a stream that drops halfway would fail the request instead of its iteration. These
transports hand an event stream over at its first event and let a dropped connection (ftemu's `reset`,
`truncate` and `stream_cut` faults) surface as the same httpx2 errors a socket gives. `ASGITransport` is for
`httpx2.AsyncClient` (the async SDK client); `SyncASGITransport` runs the app on an event loop of the calling
thread for `httpx2.Client` (the sync SDK client).
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx2

NO_RESPONSE = "Server disconnected without sending a response."
INCOMPLETE = "peer closed connection without sending complete message body (incomplete chunked read)"


class _Exchange:
    """One request to the app: the messages it sent so far, and a way to wait for the next one.

    The app runs as a task of `loop`; whoever waits for its next message is woken by `notify` (the async
    transport's future, or the sync transport's `loop.stop`, which ends the loop run it is waiting in, not before
    the pass that runs the done callbacks of an app that has ended: anyio stops its worker thread in one).
    """

    def __init__(self, app: Any, request: httpx2.Request, body: bytes, loop: asyncio.AbstractEventLoop) -> None:
        self.body = body
        self.loop = loop
        self.messages: deque[dict[str, Any]] = deque()
        self.closed = asyncio.Event()
        self.received = False
        self.waiter: asyncio.Future[None] | None = None
        self.stop: Callable[[], None] | None = None
        self.task = loop.create_task(app(_scope(request), self.receive, self.send))
        self.task.add_done_callback(self.notify)

    def notify(self, _: object = None) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        if self.stop is not None:
            self.stop()

    async def receive(self) -> dict[str, Any]:
        if not self.received:
            self.received = True
            return {"type": "http.request", "body": self.body, "more_body": False}
        await self.closed.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        self.messages.append(message)
        if self.stop is None:
            self.notify()
        else:  # the sync transport stops the loop on its next pass, with the callbacks of the app's end (if it ended)
            self.loop.call_soon(self.notify)

    async def next(self) -> dict[str, Any] | None:
        """The app's next message, or None once it has ended with nothing more to say."""
        while not self.messages:
            if self.task.done():
                return None
            self.waiter = self.loop.create_future()
            await self.waiter
        return self.messages.popleft()

    def next_now(self) -> dict[str, Any] | None:
        """The same from outside the loop (the sync transport): run it until the app has said something."""
        while not self.messages:
            if self.task.done():
                return None
            self.stop = self.loop.stop
            try:
                self.loop.run_forever()
            finally:
                self.stop = None
        return self.messages.popleft()

    def head(self, message: dict[str, Any] | None) -> tuple[int, list[tuple[bytes, bytes]]]:
        """The status and headers the app started its response with, or the error a socket would have given."""
        if message is None or message["type"] != "http.response.start":
            error = self.task.exception() if self.task.done() and not self.task.cancelled() else None
            if error is not None:
                raise error
            raise httpx2.RemoteProtocolError(NO_RESPONSE)
        return message["status"], message.get("headers", [])

    async def chunks(self) -> AsyncIterator[bytes]:
        more = True
        while more:
            chunk, more = _body(await self.next())
            if chunk:
                yield chunk

    def chunks_now(self) -> Iterator[bytes]:
        """The same from outside the loop (the sync transport)."""
        more = True
        while more:
            chunk, more = _body(self.next_now())
            if chunk:
                yield chunk

    async def close(self) -> None:
        """Tell the app the client has gone, and let it finish (its background work too) for up to a second."""
        self.closed.set()
        if not self.task.done():
            try:
                await asyncio.wait_for(asyncio.shield(self.task), 1.0)
            except (TimeoutError, Exception):
                self.task.cancel()


def _body(message: dict[str, Any] | None) -> tuple[bytes, bool]:
    """A message's body bytes and whether more may follow; an app that ended before its last chunk: a socket's error."""
    if message is None:
        raise httpx2.RemoteProtocolError(INCOMPLETE)
    if message["type"] != "http.response.body":
        return b"", True
    return message.get("body", b""), message.get("more_body", False)


class _Body(httpx2.AsyncByteStream):
    def __init__(self, exchange: _Exchange) -> None:
        self.exchange = exchange

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.exchange.chunks():
            yield chunk

    async def aclose(self) -> None:
        await self.exchange.close()


def _streamed(headers: list[tuple[bytes, bytes]]) -> bool:
    return any(name.lower() == b"content-type" and b"text/event-stream" in value for name, value in headers)


class ASGITransport(httpx2.AsyncBaseTransport):
    """Calls the ASGI app for each request; an event stream streams while the app runs."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        return await self.exchange(request, await request.aread())

    async def exchange(self, request: httpx2.Request, body: bytes) -> httpx2.Response:
        exchange = _Exchange(self.app, request, body, asyncio.get_running_loop())
        status, headers = exchange.head(await exchange.next())
        if _streamed(headers):
            return httpx2.Response(status, headers=headers, stream=_Body(exchange))
        content = b"".join([chunk async for chunk in exchange.chunks()])
        await exchange.close()
        return httpx2.Response(status, headers=headers, stream=httpx2.ByteStream(content))


def _scope(request: httpx2.Request) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": request.method,
        "headers": [(name.lower(), value) for name, value in request.headers.raw],
        "scheme": request.url.scheme,
        "path": request.url.path,
        "raw_path": request.url.raw_path.split(b"?")[0],
        "query_string": request.url.query,
        "server": (request.url.host, request.url.port or 80),
        "client": ("127.0.0.1", 123),
        "root_path": "",
    }


Run = Callable[[Callable[[], Any]], Any]


def _here(call: Callable[[], Any]) -> Any:
    return call()


class _SyncBody(httpx2.SyncByteStream):
    """An event stream for a sync client: each chunk runs the loop until the app has sent it (in the thread
    `run` calls in: this one, or the transport's own when this thread is running an event loop)."""

    def __init__(self, exchange: _Exchange, run: Run) -> None:
        self.exchange = exchange
        self.run = run

    def __iter__(self) -> Iterator[bytes]:
        chunks = self.exchange.chunks_now()
        while (chunk := self.run(lambda: next(chunks, None))) is not None:
            yield chunk

    def close(self) -> None:
        self.run(lambda: self.exchange.loop.run_until_complete(self.exchange.close()))


class SyncASGITransport(httpx2.BaseTransport):
    """The same, for a sync client: the app runs on an event loop of the calling thread (one per thread), which
    moves only while the client waits for the response or pulls its next chunk, as a socket's back-pressure would
    have it. A thread that is already running an event loop (a sync call inside an async test) cannot run
    another: its requests are run in the transport's own thread instead, one at a time."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._local = threading.local()
        self._loops: list[asyncio.AbstractEventLoop] = []
        self._lock = threading.Lock()
        self._thread: ThreadPoolExecutor | None = None

    def _loop(self) -> asyncio.AbstractEventLoop:
        loop: asyncio.AbstractEventLoop | None = getattr(self._local, "loop", None)
        if loop is None:
            loop = self._local.loop = asyncio.new_event_loop()
            with self._lock:
                self._loops.append(loop)
        return loop

    def _elsewhere(self, call: Callable[[], Any]) -> Any:
        """`call()` in the transport's own thread (made the first time it is needed)."""
        with self._lock:
            if self._thread is None:
                self._thread = ThreadPoolExecutor(1, thread_name_prefix="ftemu-in-process")
            thread = self._thread
        return thread.submit(call).result()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return self._handle(request, _here)
        return self._elsewhere(lambda: self._handle(request, self._elsewhere))  # type: ignore[no-any-return]

    def _handle(self, request: httpx2.Request, run: Run) -> httpx2.Response:
        # Driven from here, not through a coroutine of ours: the loop runs only until the app has sent what we
        # wait for (an ordinary route: one pass of the loop), which makes the call cost little more than the app.
        loop = self._loop()
        exchange = _Exchange(self.app, request, request.read(), loop)
        status, headers = exchange.head(exchange.next_now())
        if _streamed(headers):
            return httpx2.Response(status, headers=headers, stream=_SyncBody(exchange, run))
        content = b"".join(exchange.chunks_now())
        if not exchange.task.done():  # background work after the response: let it finish, as before
            loop.run_until_complete(exchange.close())
        return httpx2.Response(status, headers=headers, stream=httpx2.ByteStream(content))

    def close(self) -> None:
        with self._lock:
            loops, self._loops = self._loops, []
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.shutdown(wait=True)
        for loop in loops:
            if not loop.is_running():
                loop.close()
