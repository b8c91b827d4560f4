"""HTTP faults as data: what a matching request gets instead of (or on top of) its answer, and which requests match.

A fault names a route pattern (`/v1/files/{id}`, `/v1/fine-tunes*`; `*` matches anything, `{name}` one path
segment) and a method, and applies to the next `times` matching requests (None: every one), each with
probability `rate` (drawn from a generator seeded by --seed, so a run repeats). Kinds: `error` (a status with
OpenAI's body and headers), `latency`, `reset` (the connection drops before any response), `truncate` (half the
body, then the connection drops), `malformed` (half the body, as if complete) and `stream_cut` (a streamed
response drops after `after_chunks` chunks).
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass, field, replace
from typing import Any

from emulator.core.errors import invalid_request

KINDS = ("error", "latency", "reset", "truncate", "malformed", "stream_cut")

RATE_LIMIT_MESSAGE = (
    "Rate limit reached for requests in organization {organization} on requests per min (RPM): Limit 3, Used 3, "
    "Requested 1. Please try again in {wait}. Visit https://platform.openai.com/account/rate-limits to learn more."
)
# The bodies the real API (and the Cloudflare edge in front of it) answers with, per status.
ERROR_BODIES: dict[int, dict[str, Any]] = {
    500: {
        "message": "The server had an error while processing your request. Sorry about that!",
        "type": "server_error",
        "param": None,
        "code": None,
    },
    502: {"message": "Bad gateway.", "type": "cf_bad_gateway", "param": None, "code": 502},
    503: {
        "message": "The server is overloaded or not ready yet.",
        "type": "server_error",
        "param": None,
        "code": None,
    },
    504: {"message": "Gateway timeout.", "type": "cf_gateway_timeout", "param": None, "code": 504},
}


def error_body(status: int, organization: str, retry_after_ms: int) -> dict[str, Any]:
    """OpenAI's error envelope for a fault status (429: the requests-per-minute limit)."""
    if status == 429:
        wait = f"{retry_after_ms}ms" if retry_after_ms < 1000 else f"{retry_after_ms / 1000:g}s"
        message = RATE_LIMIT_MESSAGE.format(organization=organization, wait=wait)
        return {"error": {"message": message, "type": "requests", "param": None, "code": "rate_limit_exceeded"}}
    known = ERROR_BODIES.get(status)
    if known is None:
        known = {"message": f"Injected error (status {status}).", "type": "server_error", "param": None, "code": None}
    return {"error": dict(known)}


def rate_limit_headers(retry_after_ms: int) -> dict[str, str]:
    """429's headers: retry-after (whole seconds, at least 1), retry-after-ms and the x-ratelimit-* family."""
    seconds = max(1, -(-retry_after_ms // 1000))
    return {
        "retry-after": str(seconds),
        "retry-after-ms": str(retry_after_ms),
        "x-ratelimit-limit-requests": "3",
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": f"{retry_after_ms}ms",
        "x-ratelimit-limit-tokens": "150000",
        "x-ratelimit-remaining-tokens": "149984",
        "x-ratelimit-reset-tokens": "6ms",
    }


def route_pattern(path: str) -> re.Pattern[str]:
    """`/v1/files/{id}` -> one segment per placeholder; `*` -> anything (including slashes)."""
    parts = re.split(r"(\{[^}/]*\}|\*)", path)
    regex = "".join("[^/]+" if p.startswith("{") else ".*" if p == "*" else re.escape(p) for p in parts)
    return re.compile(regex + r"\Z")


@dataclass
class Fault:
    """One fault rule (mutable: `remaining` and `hits` count down and up as requests match)."""

    id: str
    kind: str
    method: str | None = None
    path: str | None = None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    times: int | None = 1
    rate: float = 1.0
    latency_ms: int = 0
    after_chunks: int = 0
    retry_after_ms: int = 1000
    hits: int = 0
    remaining: int | None = None
    _pattern: re.Pattern[str] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.remaining is None:
            self.remaining = self.times
        self._pattern = route_pattern(self.path) if self.path else None

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method != "*" and self.method.upper() != method:
            return False
        return self._pattern is None or self._pattern.match(path) is not None

    def response_headers(self) -> dict[str, str]:
        extra = rate_limit_headers(self.retry_after_ms) if self.status == 429 else {}
        return {**extra, **{name.lower(): value for name, value in self.headers.items()}}

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "emulator.fault",
            "kind": self.kind,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "headers": self.headers,
            "times": self.times,
            "remaining": self.remaining,
            "rate": self.rate,
            "latency_ms": self.latency_ms,
            "after_chunks": self.after_chunks,
            "retry_after_ms": self.retry_after_ms,
            "hits": self.hits,
        }


class FaultRegistry:
    """The faults in force, oldest first; `take` picks the first one a request triggers (or None, cheaply)."""

    def __init__(self, seed: int | None) -> None:
        self.faults: list[Fault] = []
        self._seed = seed
        self._random = random.Random(seed)
        self._counter = 0
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._counter += 1
            fault = replace(fault, id=fault.id or f"fault_{self._counter:06d}")
            self.faults.append(fault)
            return fault

    def remove(self, fault_id: str) -> bool:
        with self._lock:
            kept = [fault for fault in self.faults if fault.id != fault_id]
            found = len(kept) != len(self.faults)
            self.faults = kept
            return found

    def clear(self) -> None:
        """Forget every fault; the random draws start again from the seed."""
        with self._lock:
            self.faults = []
            self._random = random.Random(self._seed)

    def take(self, method: str, path: str) -> Fault | None:
        """The fault this request triggers (its counters move), or None."""
        if not self.faults:
            return None
        with self._lock:
            for fault in self.faults:
                if not fault.matches(method, path):
                    continue
                if fault.rate < 1.0 and self._random.random() >= fault.rate:
                    continue
                fault.hits += 1
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self.faults.remove(fault)
                return fault
        return None


def _number(spec: dict[str, Any], name: str, kind: type, default: Any, minimum: float) -> Any:
    value = spec.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or (kind is int and not isinstance(value, int)):
        raise invalid_request(f"{value!r} is not of type '{kind.__name__}' - '{name}'", param=name)
    if value < minimum:
        raise invalid_request(f"{value!r} is less than the minimum of {minimum} - '{name}'", param=name)
    return value


def _text(spec: dict[str, Any], name: str) -> str | None:
    value = spec.get(name)
    if value is not None and not isinstance(value, str):
        raise invalid_request(f"{value!r} is not of type 'string' - '{name}'", param=name)
    return value


def parse_fault(spec: dict[str, Any], fault_id: str = "") -> Fault:
    """A fault from its JSON description (the control API, the control file, the x-ftemu-fault header)."""
    unknown = sorted(set(spec) - FIELDS)
    if unknown:
        raise invalid_request(f"Unrecognized fault field: {unknown[0]!r}", param=unknown[0])
    status = _number(spec, "status", int, None, 100)
    if status is not None and status > 599:
        raise invalid_request(f"{status!r} is greater than the maximum of 599 - 'status'", param="status")
    kind = _text(spec, "kind") or ("error" if status is not None else "latency")
    if kind not in KINDS:
        raise invalid_request(f"{kind!r} is not one of {list(KINDS)} - 'kind'", param="kind")
    if kind == "error" and status is None:
        raise invalid_request("An error fault needs a 'status'.", param="status")
    headers = spec.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise invalid_request(f"{headers!r} is not an object of strings - 'headers'", param="headers")
    rate = _number(spec, "rate", float, 1.0, 0)
    if rate > 1:
        raise invalid_request(f"{rate!r} is greater than the maximum of 1 - 'rate'", param="rate")
    times = _number(spec, "times", int, 1, 1) if "times" not in spec or spec["times"] is not None else None
    return Fault(
        id=fault_id,
        kind=kind,
        method=(_text(spec, "method") or "").upper() or None,
        path=_text(spec, "path"),
        status=status,
        headers=dict(headers),
        times=times,
        rate=float(rate),
        latency_ms=_number(spec, "latency_ms", int, 0, 0),
        after_chunks=_number(spec, "after_chunks", int, 1, 0),
        retry_after_ms=_number(spec, "retry_after_ms", int, 1000, 0),
    )


FIELDS = frozenset(
    ("kind", "method", "path", "status", "headers", "times", "rate", "latency_ms", "after_chunks", "retry_after_ms")
)
