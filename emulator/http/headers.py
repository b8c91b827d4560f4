"""The headers every response carries: openai-organization, openai-version, openai-processing-ms, x-request-id."""

from __future__ import annotations

import os

from starlette.types import Message, Scope, Send

from emulator.core.clock import monotonic

OPENAI_VERSION = "2020-10-01"
_VERSION = OPENAI_VERSION.encode()


def request_id() -> bytes:
    return b"req_" + os.urandom(16).hex().encode()


def add_openai_headers(scope: Scope, message: Message, started: float, request: bytes) -> None:
    """Put the four headers on a response's start message (the organisation as the route saw it, if any)."""
    headers = list(message.get("headers", []))
    organization = scope.get("state", {}).get("organization")
    if organization is not None:
        headers.append((b"openai-organization", organization.name.encode()))
    headers += [
        (b"openai-version", _VERSION),
        (b"openai-processing-ms", str(int((monotonic() - started) * 1000)).encode()),
        (b"x-request-id", request),
    ]
    message["headers"] = headers


def with_openai_headers(scope: Scope, send: Send, started: float, request: bytes) -> Send:
    """`send`, adding the headers to the response's start."""

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            add_openai_headers(scope, message, started, request)
        await send(message)

    return send_with_headers
