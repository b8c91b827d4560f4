"""The control plane's ASGI middleware: the control key on /_emulator, HTTP faults, and the request journal.

A request triggers at most one fault: the one its `x-ftemu-fault` header describes, or the first rule in force
that matches it. With no rule set and no header, a request costs a list check and a journal entry.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emulator.core.clock import monotonic
from emulator.core.container import Core
from emulator.core.errors import APIError
from emulator.core.faults import KINDS, Fault, error_body, parse_fault
from emulator.core.journal import BODY_PREVIEW, Entry, Record, body_summary
from emulator.http.headers import add_openai_headers, request_id, with_openai_headers
from emulator.store import Organization

FAULT_HEADER = b"x-ftemu-fault"
CONTROL_PREFIX = "/_emulator"
DROPPED = ("reset", "truncated", "stream_cut")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})  # the others' bodies are not journaled (the API reads none)


@dataclass(slots=True)
class _Seen:
    """What the middleware learnt of one request and its response."""

    content_type: str = ""
    body: bytes = b""
    size: int = 0
    status: int | None = None
    chunks: int = 0


_NOTHING_SEEN = _Seen()  # a request without a body or a fault: read only, never written


def header_fault(value: bytes) -> Fault:
    """`x-ftemu-fault: 503`, `: reset`, or `: {"status": 429, "retry_after_ms": 20}` -> a one-off fault."""
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return Fault(id="header", kind="error", status=int(text))
    if text in KINDS:
        return Fault(id="header", kind=text, after_chunks=1)
    try:
        spec = json.loads(text)
    except ValueError:
        spec = None
    if not isinstance(spec, dict):
        raise APIError(400, f"x-ftemu-fault: not a status, a fault kind or a JSON object: {text!r}")
    return parse_fault(spec, fault_id="header")


async def drop_connection(receive: Receive) -> bool:
    """Abort the socket under a uvicorn request (True), or say there is none (in-process: False)."""
    cycle = getattr(receive, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        return False
    transport.abort()
    await asyncio.sleep(0)  # let uvicorn see the connection lost, so it sends nothing more
    return True


class ControlPlane:
    """Adds the OpenAI headers, checks the control key, applies faults and writes the journal."""

    def __init__(self, app: ASGIApp, core: Core) -> None:
        self.app = app
        self.core = core
        # The request path's hot attributes, looked up once (a reset clears these, never replaces them).
        self._faults = core.faults
        self._append = core.journal.append
        self._next_seq = core.journal.next_seq
        core.journal.builders.update(request=self._entry, plain=self._plain_entry)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # The OpenAI headers are added here too (one layer instead of two): every response gets them, injected
        # errors included.
        started, request = monotonic(), request_id()
        path: str = scope["path"]
        if path.startswith(CONTROL_PREFIX):
            await self._control(scope, receive, with_openai_headers(scope, send, started, request))
            return
        fault = None
        fault_header = content_type = b""
        if scope["method"] in BODY_METHODS:  # one pass: the fault header and the body's type
            for name, value in scope["headers"]:
                if name == b"content-type":
                    content_type = value
                elif name == FAULT_HEADER:
                    fault_header = value
        else:  # no body to journal: only the fault header is looked for
            for name, value in scope["headers"]:
                if name == FAULT_HEADER:
                    fault_header = value
                    break
        if fault_header:
            try:
                fault = header_fault(fault_header)
            except APIError as error:
                headed = with_openai_headers(scope, send, started, request)
                await _send_json(headed, error.status, error.body(), error.headers or {})
                return
        if fault is None and self._faults.faults:
            fault = self._faults.take(scope["method"], path)
        if fault is not None or content_type:
            headed = with_openai_headers(scope, send, started, request)
            await self._journaled(scope, receive, headed, fault, content_type.decode("latin-1"))
            return
        # The common case (no fault, no body): the journal keeps the status the response starts with.
        status = None

        def send_and_see(message: Message) -> Awaitable[None]:  # not a coroutine: no frame of its own
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                add_openai_headers(scope, message, started, request)
            return send(message)

        try:
            await self.app(scope, receive, send_and_see)
        finally:
            self._append((*self._head(scope, "plain"), status, started, monotonic()))

    async def _control(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = self.core.settings.control_key
        if key:
            given = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
            if given.strip() != f"Bearer {key}":
                error = APIError(401, "The control plane needs its key: Authorization: Bearer <--control-key>.")
                await _send_json(send, 401, error.body(), {})
                return
        await self.app(scope, receive, send)

    async def _journaled(
        self, scope: Scope, receive: Receive, send: Send, fault: Fault | None, content_type: str
    ) -> None:
        """A request with a fault or a body: the journal also keeps what it sent and how it ended."""
        started = monotonic()
        seen = _Seen(content_type)

        async def receive_and_keep() -> Message:
            message = await receive()
            chunk = message.get("body", b"")
            if chunk:
                seen.size += len(chunk)
                if len(seen.body) < BODY_PREVIEW:
                    seen.body += chunk[: BODY_PREVIEW - len(seen.body) + 1]
            return message

        async def send_and_see(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen.status = message["status"]
            await send(message)

        outcome = "complete"
        # A request without a content type sends no body worth keeping: its receive is left alone.
        receiving = receive_and_keep if content_type else receive
        try:
            if fault is None:
                await self.app(scope, receiving, send_and_see)
            else:
                outcome = await self._faulty(scope, receiving, send_and_see, fault, seen)
        finally:
            fault_id = None if fault is None else fault.id
            self._record(scope, seen.status, started, seen, fault_id, outcome)
        if outcome in DROPPED:
            # Under uvicorn the socket is aborted; in-process the app simply ends with its response unfinished
            # (or never started), which an in-process transport reports as the same network error.
            await drop_connection(receive)

    async def _faulty(self, scope: Scope, receive: Receive, send: Send, fault: Fault, seen: _Seen) -> str:
        """Apply the fault; returns the outcome ('complete' unless the connection must now drop)."""
        if fault.latency_ms:
            await asyncio.sleep(fault.latency_ms / 1000)
        if fault.kind == "error" and fault.status is not None:
            organization = self._organization(scope)
            body = error_body(fault.status, organization.id if organization else "org-unknown", fault.retry_after_ms)
            await _send_json(send, fault.status, body, fault.response_headers())
            return "complete"
        if fault.kind == "reset":
            return "reset"
        if fault.kind in ("truncate", "malformed"):
            return await _half_body(self.app, scope, receive, send, fault.kind)
        if fault.kind == "stream_cut":
            return await _cut_stream(self.app, scope, receive, send, fault.after_chunks, seen)
        await self.app(scope, receive, send)
        return "complete"

    def _organization(self, scope: Scope) -> Organization | None:
        """The request's organisation as the route saw it, or as its key says (None for a bad key)."""
        found: Organization | None = scope.get("state", {}).get("organization")
        if found is not None:
            return found
        return self._organization_of_key(_authorization(scope))

    def _organization_of_key(self, authorization: bytes | None) -> Organization | None:
        try:
            return self.core.auth.organization_for((authorization or b"").decode("latin-1") or None, None)
        except APIError:
            return None

    def _head(self, scope: Scope, kind: str) -> Record:
        """What every journal record starts with: `(seq, kind, created_at, method, path, query, who)`, plain values
        only (not the scope: a journal of whole scopes slows every GC pass). `who` is the organisation's name, or
        the request's key when its route saw none (the entry names one when the journal is read)."""
        state = scope.get("state")
        organization = state.get("organization") if state else None
        return (
            self._next_seq(),
            kind,
            self.core.clock.now(),  # not cached: a reset may put a new clock in
            scope["method"],
            scope["path"],
            scope["query_string"],
            _authorization(scope) if organization is None else organization.name,
        )

    def _record(
        self,
        scope: Scope,
        status: int | None,
        started: float,
        seen: _Seen = _NOTHING_SEEN,
        fault: str | None = None,
        outcome: str = "complete",
    ) -> None:
        """A request with a body or a fault: what it sent, and how it ended."""
        latency = (monotonic() - started) * 1000
        facts = (seen.content_type, seen.body, seen.size, status, seen.chunks, latency, fault, outcome)
        self._append((*self._head(scope, "request"), *facts))

    def _plain_entry(self, record: Record) -> Entry:
        """The journal entry of a request without a body or a fault (the short record)."""
        *head, status, started, ended = record
        return self._entry((*head, "", b"", 0, status, 0, (ended - started) * 1000, None, "complete"))

    def _organization_name(self, who: bytes | str | None) -> str | None:
        """The organisation the route saw, or the one the request's key names (None for a bad key)."""
        if isinstance(who, str):
            return who
        found = self._organization_of_key(who)  # the route never saw an organisation: ask the key
        return found.name if found is not None else None

    def _entry(self, record: Record) -> Entry:
        """The journal entry of one request (made when the journal is read)."""
        (
            _,
            _,
            created_at,
            method,
            path,
            query,
            who,
            content_type,
            body,
            size,
            status,
            chunks,
            latency,
            fault,
            outcome,
        ) = record
        if outcome == "stream_cut":
            outcome = f"stream_cut after {chunks} chunks"
        return Entry(
            seq=0,
            created_at=created_at,
            method=method,
            path=path,
            query=query.decode("latin-1"),
            organization=self._organization_name(who),
            body=body_summary(content_type, body, size),
            status=status,
            latency_ms=latency,
            fault=fault,
            outcome=outcome,
        )


def _authorization(scope: Scope) -> bytes | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            return bytes(value)
    return None


class _Cut(Exception):
    """Stops the app once a stream has sent its allowed chunks."""


async def _cut_stream(app: ASGIApp, scope: Scope, receive: Receive, send: Send, limit: int, seen: _Seen) -> str:
    """Forward the response until `limit` non-empty body chunks have gone out, then drop the connection."""

    async def counting(message: Message) -> None:
        if message["type"] == "http.response.body" and message.get("body"):
            if seen.chunks >= limit:
                raise _Cut()
            seen.chunks += 1
        await send(message)

    try:
        await app(scope, receive, counting)
    except Exception:
        if seen.chunks < limit and seen.status is None:
            raise
        return "stream_cut"
    # The whole response fit in `limit` chunks: nothing to cut.
    return "complete"


async def _half_body(app: ASGIApp, scope: Scope, receive: Receive, send: Send, kind: str) -> str:
    """Run the app to the end, then send half its body: as if complete (malformed) or cut short (truncated)."""
    start: Message | None = None
    parts: list[bytes] = []

    async def keep(message: Message) -> None:
        nonlocal start
        if message["type"] == "http.response.start":
            start = message
        elif message["type"] == "http.response.body":
            parts.append(message.get("body", b""))

    await app(scope, receive, keep)
    assert start is not None
    body = b"".join(parts)
    half = body[: len(body) // 2]
    headers = [(name, value) for name, value in start.get("headers", []) if name != b"content-length"]
    length = len(half) if kind == "malformed" else len(body)
    await send({**start, "headers": [*headers, (b"content-length", str(length).encode())]})
    await send({"type": "http.response.body", "body": half, "more_body": kind == "truncate"})
    return "malformed" if kind == "malformed" else "truncated"


async def _send_json(send: Send, status: int, body: object, headers: dict[str, str]) -> None:
    data = json.dumps(body).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    raw += [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": data})
