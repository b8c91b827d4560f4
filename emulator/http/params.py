"""Request-body checks worded like the real API's JSON-schema validator; JSON null always means "default"."""

from __future__ import annotations

import math
from typing import Any

from starlette.requests import Request

from emulator.core.errors import INVALID_JSON_BODY, APIError, invalid_request
from emulator.core.json_reader import JSONRefused, load_json


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
