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


Record = tuple[Any, ...]
"""A journal slot: `(seq, kind, *facts)`; `builders[kind](record)` makes its Entry when the journal is read."""


def _ready(record: Record) -> Entry:
    entry: Entry = record[2]
    return entry


class Journal:
    """The last MAX_ENTRIES entries, oldest first; thread-safe (webhook deliveries write from their thread).

    The request path keeps a request's raw facts in one flat tuple (`append((next_seq(), kind, *facts))`: one
    allocation) of plain values only, strings, numbers, bytes and None, the kind a name in `builders`: the garbage
    collector stops tracking such a tuple at its first pass, so a full journal adds nothing to the heap its full
    collections walk. The Entry is made only when someone reads the journal.
    """

    def __init__(self) -> None:
        self._entries: deque[Record] = deque(maxlen=MAX_ENTRIES)
        self.next_seq: Callable[[], int] = itertools.count(1).__next__
        self.append: Callable[[Record], None] = self._entries.append
        self.builders: dict[str, Callable[[Record], Entry]] = {"entry": _ready}

    def record(self, entry: Entry) -> Entry:
        entry.seq = self.next_seq()
        self.append((entry.seq, "entry", entry))
        return entry

    def entries(self, **wanted: str | None) -> list[Entry]:
        """Entries whose fields equal every given filter (as text; `path` may end in `*` for a prefix)."""
        found = []
        for record in list(self._entries):
            entry = self.builders[record[1]](record)
            entry.seq = record[0]
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
