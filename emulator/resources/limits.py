"""Refusing a request by its declared size (Content-Length) before one byte of its body is read.

A multipart body (an upload) larger than the organisation's remaining room, plus the form's own framing, gets the
storage-limit error the upload would end with; any other body larger than `--max-json-body` gets a 413. The
body is never read, so nothing is spooled to disk. A body without a Content-Length (chunked) is not refused
here: the upload's own copy still stops at the room, and the JSON reader at the cap.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from emulator.core.container import Core
from emulator.core.errors import APIError
from emulator.http.handlers import error_response
from emulator.resources.files import storage_limit_error

# What a multipart form adds around the file: boundaries, part headers, the purpose field.
FORM_FRAMING_BYTES = 64 * 1024


def body_too_large(declared: int, limit: int) -> APIError:
    return APIError(
        413,
        f"The request body is {declared} bytes; the limit is {limit} bytes.",
        code="request_too_large",
    )


def _header(scope: Scope, wanted: bytes) -> str | None:
    for name, value in scope["headers"]:
        if name.lower() == wanted:
            return str(value.decode("latin-1"))
    return None


class DeclaredSize:
    """ASGI middleware: answers a too-large declared body with the envelope, without reading it."""

    def __init__(self, app: ASGIApp, core: Core) -> None:
        self.app = app
        self.core = core

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            length = _header(scope, b"content-length")
            if length is not None and length.isdigit():
                error = self.refusal(scope, int(length))
                if error is not None:
                    # The body is never read: close the connection after the answer, so a client still
                    # sending (one that does not wait for 100 Continue) stops and reads it.
                    response = error_response(error)
                    response.headers["connection"] = "close"
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)

    def refusal(self, scope: Scope, declared: int) -> APIError | None:
        kind = (_header(scope, b"content-type") or "").lower()
        if not kind.startswith("multipart/"):
            limit = self.core.settings.max_json_body
            return body_too_large(declared, limit) if declared > limit else None
        if declared <= FORM_FRAMING_BYTES:  # fits in any room: no need to look at the store
            return None
        limit = self.core.settings.storage_limit
        try:
            organization = self.core.auth.organization_for(
                _header(scope, b"authorization"), _header(scope, b"openai-organization")
            )
        except APIError:
            return None  # the route answers 401 as it always does
        used = self.core.store.stored_bytes(organization.id)
        if declared > limit - used + FORM_FRAMING_BYTES:
            scope.setdefault("state", {})["organization"] = organization
            return storage_limit_error(limit, used)
        return None
