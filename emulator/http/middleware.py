"""ASGI guards around the routes: HEAD answered as GET without a body, unreadable paths refused, crashes as 500s.

HEAD on a GET route runs the GET and sends its headers only (a route table lists GET, not HEAD).

A crash that Starlette's outer ServerErrorMiddleware handles is re-raised after its 500 is sent, so uvicorn drops
the keep-alive connection without `Connection: close` and a pooling client's next request fails too. Here a
crash before the response started becomes the envelope's 500 and the connection stays usable; a crash after
(a stream cut short) still ends the connection, which is the only honest thing left to do.
"""

from __future__ import annotations

import json
import logging
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emulator.core.errors import APIError, invalid_request, server_error

log = logging.getLogger("ftemu")
HEAD_SCOPE_KEY = "ftemu.head"
_SURROGATE = re.compile("[\ud800-\udfff]")


async def _send_error(send: Send, error: APIError) -> None:
    body = json.dumps(error.body(), separators=(",", ":")).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(name.lower().encode(), value.encode()) for name, value in (error.headers or {}).items()]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class Guard:
    """HEAD as GET (headers only), paths that are not valid Unicode refused, crashes rendered as 500s."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _SURROGATE.search(scope.get("path", "")):
            await _send_error(send, invalid_request("The URL path is not valid UTF-8.", param=None))
            return
        started = False
        head = scope["method"] == "HEAD"
        if head:
            # A copy (the server keeps its own scope, whose HEAD means "no body"), sharing the same "state" dict
            # with the outer middleware, which reads the organisation from it.
            scope.setdefault("state", {})
            scope = {**scope, "method": "GET", HEAD_SCOPE_KEY: True}

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            elif head and message["type"] == "http.response.body":
                # HEAD is GET without the body: the headers (content-length included) are the GET's.
                message = {**message, "body": b""}
            await send(message)

        try:
            await self.app(scope, receive, guarded_send)
        except Exception as exc:
            if started:
                raise
            _log_crash(scope, exc)
            await _send_error(guarded_send, server_error())


def _log_crash(scope: Scope, exc: Exception) -> None:
    log.error("unexpected error on %s %s", scope.get("method"), scope.get("path"), exc_info=exc)
