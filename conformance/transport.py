"""httpx2 transports that call an ASGI app in-process and stream its response, as a socket would.

httpx2's own ASGITransport reads the whole response before returning it: an event stream that waits for a job
would never return, and a stream that drops halfway would fail the request instead of its iteration. These
transports hand the response over at its first byte and let a dropped connection (ftemu's `reset`,
`truncate` and `stream_cut` faults) surface as the same httpx2 errors a socket gives. `ASGITransport` is for
`httpx2.AsyncClient` (the async SDK client); `SyncASGITransport` runs the app on its own event-loop thread
for `httpx2.Client` (the sync SDK client).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx2

NO_RESPONSE = "Server disconnected without sending a response."
INCOMPLETE = "peer closed connection without sending complete message body (incomplete chunked read)"


class _Body(httpx2.AsyncByteStream):
    def __init__(self, messages: asyncio.Queue[dict[str, Any]], task: asyncio.Task[None], done: asyncio.Event):
        self.messages = messages
        self.task = task
        self.done = done

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            message = await _next_message(self.messages, self.task)
            if message is None:
                raise httpx2.RemoteProtocolError(INCOMPLETE)
            if message["type"] != "http.response.body":
                continue
            if message.get("body"):
                yield message["body"]
            if not message.get("more_body", False):
                return

    async def aclose(self) -> None:
        self.done.set()
        if not self.task.done():
            try:
                await asyncio.wait_for(asyncio.shield(self.task), 1.0)
            except (TimeoutError, Exception):
                self.task.cancel()


async def _next_message(messages: asyncio.Queue[dict[str, Any]], task: asyncio.Task[None]) -> dict[str, Any] | None:
    """The app's next message, or None once it has ended (or crashed) with nothing more to say."""
    if not messages.empty():
        return messages.get_nowait()
    getter = asyncio.ensure_future(messages.get())
    await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
    if getter.done():
        return getter.result()
    getter.cancel()
    return messages.get_nowait() if not messages.empty() else None


class ASGITransport(httpx2.AsyncBaseTransport):
    """Calls the ASGI app for each request; the response streams while the app runs."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        body = await request.aread()
        messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        done = asyncio.Event()
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await done.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            await messages.put(message)

        task = asyncio.ensure_future(self.app(_scope(request), receive, send))
        start = await _next_message(messages, task)
        if start is None or start["type"] != "http.response.start":
            error = task.exception() if task.done() and not task.cancelled() else None
            if error is not None:
                raise error
            raise httpx2.RemoteProtocolError(NO_RESPONSE)
        return httpx2.Response(start["status"], headers=start.get("headers", []), stream=_Body(messages, task, done))


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
            future = asyncio.run_coroutine_threadsafe(_anext(self.chunks), self.loop)
            chunk = future.result()
            if chunk is None:
                return
            yield chunk

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.stream.aclose(), self.loop).result()


async def _anext(chunks: AsyncIterator[bytes]) -> bytes | None:
    try:
        return await chunks.__anext__()
    except StopAsyncIteration:
        return None


class SyncASGITransport(httpx2.BaseTransport):
    """The same, for a sync client: the app runs on this transport's own event-loop thread."""

    def __init__(self, app: Any) -> None:
        self.inner = ASGITransport(app)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="ftemu-asgi", daemon=True)
        self.thread.start()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        content = request.read()
        inner = httpx2.Request(request.method, request.url, headers=request.headers, content=content)
        future = asyncio.run_coroutine_threadsafe(self.inner.handle_async_request(inner), self.loop)
        response = future.result()
        assert isinstance(response.stream, httpx2.AsyncByteStream)
        return httpx2.Response(
            response.status_code, headers=response.headers, stream=_SyncBody(response.stream, self.loop)
        )

    def close(self) -> None:
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=5)
        self.loop.close()
