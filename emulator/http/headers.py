"""The headers every response carries: openai-organization, openai-version, openai-processing-ms, x-request-id."""

from __future__ import annotations

import os

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emulator.core.clock import monotonic

OPENAI_VERSION = "2020-10-01"
_VERSION = OPENAI_VERSION.encode()


class OpenAIHeaders:
    """Adds openai-organization, openai-version, openai-processing-ms and x-request-id to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = monotonic()
        request_id = b"req_" + os.urandom(16).hex().encode()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                organization = scope.get("state", {}).get("organization")
                if organization is not None:
                    headers.append((b"openai-organization", organization.name.encode()))
                headers += [
                    (b"openai-version", _VERSION),
                    (b"openai-processing-ms", str(int((monotonic() - started) * 1000)).encode()),
                    (b"x-request-id", request_id),
                ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
