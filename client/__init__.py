"""ftemu's client side: a minimal client library, the `ftemu` CLI and the data-preparation tool."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from client._client import Client
    from client.errors import (
        APIConnectionError,
        APIStatusError,
        APITimeoutError,
        AuthenticationError,
        BadRequestError,
        ConflictError,
        FtemuError,
        InternalServerError,
        NotFoundError,
        PermissionDeniedError,
        RateLimitError,
        StreamError,
        UnprocessableError,
    )

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "ConflictError",
    "FtemuError",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "StreamError",
    "UnprocessableError",
]


def __getattr__(name: str) -> object:
    """Import public names on first use, so `client.prepare` (and its CLI) never pays for httpx."""
    if name not in __all__:
        raise AttributeError(f"module 'client' has no attribute {name!r}")
    module = importlib.import_module("client._client" if name == "Client" else "client.errors")
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
