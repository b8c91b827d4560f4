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
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx2

NO_RESPONSE = "Server disconnected without sending a response."
INCOMPLETE = "peer closed connection without sending complete message body (incomplete chunked read)"


class _Exchange:
    """One request to the app: the messages it sent so far, and a way to wait for the next one."""

    def __init__(self, app: Any, request: httpx2.Request, body: bytes) -> None:
        self.body = body
        self.messages: deque[dict[str, Any]] = deque()
        self.changed = asyncio.Event()
        self.closed = asyncio.Event()
        self.received = False
        self.task = asyncio.ensure_future(app(_scope(request), self.receive, self.send))
        self.task.add_done_callback(lambda _: self.changed.set())

    async def receive(self) -> dict[str, Any]:
        if not self.received:
            self.received = True
            return {"type": "http.request", "body": self.body, "more_body": False}
        await self.closed.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        self.messages.append(message)
        self.changed.set()

    async def next(self) -> dict[str, Any] | None:
        """The app's next message, or None once it has ended with nothing more to say."""
        while not self.messages:
            if self.task.done():
                return None
            self.changed.clear()
            await self.changed.wait()
        return self.messages.popleft()

    async def start(self) -> httpx2.Response:
        message = await self.next()
        if message is None or message["type"] != "http.response.start":
            error = self.task.exception() if self.task.done() and not self.task.cancelled() else None
            if error is not None:
                raise error
            raise httpx2.RemoteProtocolError(NO_RESPONSE)
        return httpx2.Response(message["status"], headers=message.get("headers", []))

    async def chunks(self) -> AsyncIterator[bytes]:
        while True:
            message = await self.next()
            if message is None:
                raise httpx2.RemoteProtocolError(INCOMPLETE)
            if message["type"] != "http.response.body":
                continue
            if message.get("body"):
                yield message["body"]
            if not message.get("more_body", False):
                return

    async def read(self) -> bytes:
        return b"".join([chunk async for chunk in self.chunks()])

    async def close(self) -> None:
        self.closed.set()
        if not self.task.done():
            try:
                await asyncio.wait_for(asyncio.shield(self.task), 1.0)
            except (TimeoutError, Exception):
                self.task.cancel()


class _Body(httpx2.AsyncByteStream):
    def __init__(self, exchange: _Exchange) -> None:
        self.exchange = exchange

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.exchange.chunks():
            yield chunk

    async def aclose(self) -> None:
        await self.exchange.close()


def _streamed(response: httpx2.Response) -> bool:
    return "text/event-stream" in response.headers.get("content-type", "")


class ASGITransport(httpx2.AsyncBaseTransport):
    """Calls the ASGI app for each request; an event stream streams while the app runs."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        return await self.exchange(request, await request.aread())

    async def exchange(self, request: httpx2.Request, body: bytes) -> httpx2.Response:
        exchange = _Exchange(self.app, request, body)
        head = await exchange.start()
        if _streamed(head):
            return httpx2.Response(head.status_code, headers=head.headers, stream=_Body(exchange))
        content = await exchange.read()
        await exchange.close()
        return httpx2.Response(head.status_code, headers=head.headers, stream=httpx2.ByteStream(content))


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


class _SyncBody(httpx2.SyncByteStream):
    def __init__(self, stream: httpx2.AsyncByteStream, loop: asyncio.AbstractEventLoop) -> None:
        self.stream = stream
        self.loop = loop
        self.chunks = stream.__aiter__()

    def __iter__(self) -> Iterator[bytes]:
        while True:
            chunk = self.loop.run_until_complete(_anext(self.chunks))
            if chunk is None:
                return
            yield chunk

    def close(self) -> None:
        self.loop.run_until_complete(self.stream.aclose())


async def _anext(chunks: AsyncIterator[bytes]) -> bytes | None:
    try:
        return await chunks.__anext__()
    except StopAsyncIteration:
        return None


class SyncASGITransport(httpx2.BaseTransport):
    """The same, for a sync client: the app runs on an event loop of the calling thread (one per thread), which
    moves only while the client waits for the response or pulls its next chunk, as a socket's back-pressure would
    have it. (Not for a thread that is already running an event loop: use the async client there.)"""

    def __init__(self, app: Any) -> None:
        self.inner = ASGITransport(app)
        self._local = threading.local()
        self._loops: list[asyncio.AbstractEventLoop] = []
        self._lock = threading.Lock()

    def _loop(self) -> asyncio.AbstractEventLoop:
        loop: asyncio.AbstractEventLoop | None = getattr(self._local, "loop", None)
        if loop is None:
            loop = self._local.loop = asyncio.new_event_loop()
            with self._lock:
                self._loops.append(loop)
        return loop

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        loop = self._loop()
        response = loop.run_until_complete(self.inner.exchange(request, request.read()))
        if isinstance(response.stream, _Body):
            return httpx2.Response(
                response.status_code, headers=response.headers, stream=_SyncBody(response.stream, loop)
            )
        return response

    def close(self) -> None:
        with self._lock:
            loops, self._loops = self._loops, []
        for loop in loops:
            if not loop.is_running():
                loop.close()
