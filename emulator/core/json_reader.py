"""The one JSON reader: strict JSON (no NaN, Infinity or overflowing numbers), valid Unicode, bounded nesting.

Request bodies (emulator.http.params) and every training-file line (legacy and modern checkers) go through it,
so that nothing past it can crash on what it was given.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Literal

# The one JSON reader: request bodies and training-file lines. Strict JSON only (no NaN or Infinity, no number
# that overflows a double), text that is valid Unicode (no lone UTF-16 surrogate from a `\ud800` escape) and at
# most MAX_DEPTH nested arrays and objects, so that nothing past it can crash on what it was given.
MAX_DEPTH = 64
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class JSONRefused(ValueError):
    """Why load_json refused a text: `syntax` (not strict JSON), `unicode` or `depth`."""

    def __init__(self, reason: Literal["syntax", "unicode", "depth"]) -> None:
        super().__init__(reason)
        self.reason = reason


def _refuse_constant(name: str) -> Any:
    raise JSONRefused("syntax")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JSONRefused("syntax")
    return value


def _check_nested(value: Any, strings: bool) -> None:
    """Walk without recursion: depth (always) and lone surrogates (when the text had a surrogate escape)."""
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                raise JSONRefused("depth")
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
        elif strings and isinstance(item, str) and _SURROGATE.search(item):
            raise JSONRefused("unicode")


# One decoder for every call (json.loads with options builds a new one each time, a third of a short line's cost).
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float)


def load_json(raw: bytes) -> Any:
    """Parse UTF-8 JSON strictly; JSONRefused (a ValueError) says why a text is refused."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise JSONRefused("unicode") from None
    try:
        value = _DECODER.decode(text)
    except RecursionError:
        raise JSONRefused("depth") from None
    except JSONRefused:
        raise
    except ValueError:
        raise JSONRefused("syntax") from None
    strings = _SURROGATE_ESCAPE.search(raw) is not None
    # A text with fewer brackets than MAX_DEPTH cannot nest too deep: skip the walk unless it may find something.
    if strings or raw.count(b"[") + raw.count(b"{") >= MAX_DEPTH:
        _check_nested(value, strings)
    return value
