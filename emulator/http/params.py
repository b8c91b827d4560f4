"""Request-body checks worded like the real API's JSON-schema validator; JSON null always means "default"."""

from __future__ import annotations

import json
import math
import re
from typing import Any, Literal

from fastapi import Request

from emulator.core.errors import INVALID_JSON_BODY, APIError, invalid_request

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


def load_json(raw: bytes) -> Any:
    """Parse UTF-8 JSON strictly; JSONRefused (a ValueError) says why a text is refused."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise JSONRefused("unicode") from None
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
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


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object; an empty body counts as {}. Anything load_json refuses is the envelope's 400."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        value = load_json(raw)
    except JSONRefused:
        raise APIError(400, INVALID_JSON_BODY) from None
    if not isinstance(value, dict):
        raise invalid_request(f"{_shown(value)} is not of type 'object'")
    return value


def _shown(value: Any) -> str:
    """A value as the validator quotes it, cut short (a 10 MB array is not echoed back)."""
    text = repr(value)
    return text if len(text) <= 200 else text[:200] + "..."


def _type_error(value: Any, kind: str, name: str) -> APIError:
    return invalid_request(f"{_shown(value)} is not of type '{kind}' - '{name}'", param=name)


def _check_range(
    value: float, name: str, minimum: float | None, maximum: float | None, exclusive_minimum: float | None
) -> None:
    if minimum is not None and value < minimum:
        raise invalid_request(f"{value!r} is less than the minimum of {minimum} - '{name}'", param=name)
    if exclusive_minimum is not None and value <= exclusive_minimum:
        raise invalid_request(
            f"{value!r} is less than or equal to the minimum of {exclusive_minimum} - '{name}'", param=name
        )
    if maximum is not None and value > maximum:
        raise invalid_request(f"{value!r} is greater than the maximum of {maximum} - '{name}'", param=name)


def integer(
    body: dict[str, Any],
    name: str,
    default: int | None = None,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int | None:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise _type_error(value, "integer", name)
    _check_range(value, name, minimum, maximum, None)
    return value


def number(
    body: dict[str, Any],
    name: str,
    default: float | None = None,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive_minimum: float | None = None,
) -> float | None:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _type_error(value, "number", name)
    if not math.isfinite(value):
        raise invalid_request(f"{value!r} is not a finite number - '{name}'", param=name)
    _check_range(value, name, minimum, maximum, exclusive_minimum)
    return value


def boolean(body: dict[str, Any], name: str, default: bool | None = None) -> bool | None:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise _type_error(value, "boolean", name)
    return value


def string(
    body: dict[str, Any],
    name: str,
    default: str | None = None,
    *,
    required: bool = False,
    min_length: int | None = None,
    max_length: int | None = None,
) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise invalid_request(f"'{name}' is a required property", param=name)
        return default
    if not isinstance(value, str):
        raise _type_error(value, "string", name)
    if min_length is not None and len(value) < min_length:
        raise invalid_request(f"{value!r} is too short - '{name}'", param=name)
    if max_length is not None and len(value) > max_length:
        raise invalid_request(f"{value!r} is too long - '{name}'", param=name)
    return value


def query_flag(value: str | None, name: str) -> bool:
    """A boolean query parameter: true/false/1/0 (absent is false)."""
    if value is None:
        return False
    lowered = value.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0", ""):
        return False
    raise invalid_request(f"{value!r} is not of type 'boolean' - '{name}'", param=name)
