"""The request journal: every API request (and every webhook delivery) with what a test may want to assert on."""

from __future__ import annotations

import contextlib
import itertools
import json
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MAX_ENTRIES = 10_000
BODY_PREVIEW = 2048


def body_summary(content_type: str, body: bytes, size: int) -> dict[str, Any] | None:
    """What was sent: a small JSON body as is, otherwise its type and size (multipart: the form's field names)."""
    if size == 0:
        return None
    summary: dict[str, Any] = {"content_type": content_type.split(";")[0] or None, "bytes": size}
    if "json" in content_type and size <= BODY_PREVIEW:
        with contextlib.suppress(ValueError):
            summary["json"] = json.loads(body)
    elif content_type.startswith("multipart/form-data"):
        text = body.decode("latin-1")
        summary["fields"] = sorted(set(_form_names(text)))
    return summary


def _form_names(text: str) -> list[str]:
    return re.findall(r'form-data; name="([^"]*)"', text)


@dataclass
class Entry:
    """One request as the emulator saw it, or one webhook delivery attempt (direction 'outgoing')."""

    seq: int
    created_at: float
    method: str
    path: str
    query: str = ""
    organization: str | None = None
    body: dict[str, Any] | None = None
    status: int | None = None
    latency_ms: float = 0.0
    fault: str | None = None
    outcome: str = "complete"  # complete, reset, truncated, malformed, stream_cut after N chunks, failed
    direction: str = "incoming"
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": f"req_{self.seq:06d}",
            "object": "emulator.request",
            "created_at": self.created_at,
            "direction": self.direction,
            "organization": self.organization,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "body": self.body,
            "status": self.status,
            "latency_ms": round(self.latency_ms, 3),
            "fault": self.fault,
            "outcome": self.outcome,
            **self.extra,
        }


FILTERS = ("method", "path", "status", "organization", "direction", "fault", "outcome")


Builder = Callable[[Any], Entry]


def _ready(entry: Any) -> Entry:
    found: Entry = entry
    return found


class Journal:
    """The last MAX_ENTRIES entries, oldest first; thread-safe (webhook deliveries write from their thread).

    The request path records raw facts and a builder (`record_raw`): an Entry is made only when someone reads
    the journal, which keeps a request's journal cost to one deque append.
    """

    def __init__(self) -> None:
        self._entries: deque[tuple[int, Builder, Any]] = deque(maxlen=MAX_ENTRIES)
        self._seq = itertools.count(1)

    def record(self, entry: Entry) -> Entry:
        entry.seq = next(self._seq)
        self._entries.append((entry.seq, _ready, entry))
        return entry

    def record_raw(self, build: Builder, raw: Any) -> None:
        """Keep `raw`; `build(raw)` makes its Entry when the journal is read."""
        self._entries.append((next(self._seq), build, raw))

    def entries(self, **wanted: str | None) -> list[Entry]:
        """Entries whose fields equal every given filter (as text; `path` may end in `*` for a prefix)."""
        found = []
        for seq, build, raw in list(self._entries):
            entry = build(raw)
            entry.seq = seq
            found.append(entry)
        for name, value in wanted.items():
            if value is None:
                continue
            found = [entry for entry in found if _matches(getattr(entry, name), value)]
        return found

    def clear(self) -> None:
        self._entries.clear()


def _matches(actual: Any, wanted: str) -> bool:
    text = "" if actual is None else str(actual)
    if wanted.endswith("*"):
        return text.startswith(wanted[:-1])
    return text == wanted
