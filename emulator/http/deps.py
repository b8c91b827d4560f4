"""The one way an API route gets the Core and the request's organisation (control routes take the Core alone)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from emulator.core.container import Core
from emulator.core.stream_drops import StreamDrops
from emulator.store import Organization


def core(request: Request) -> Core:
    """The app's Core."""
    found: Core = request.app.state.core
    return found


def authorized(request: Request) -> tuple[Core, Organization]:
    """The app's Core and the organisation of the request's key (401 in the envelope otherwise).

    It reads the two headers it needs straight from the ASGI scope.
    """
    scope = request.scope
    app: Core = scope["app"].state.core
    authorization = requested = None
    for name, value in scope["headers"]:  # two headers by hand: building Headers cost more than the lookup
        lowered = name.lower()
        if lowered == b"authorization":
            authorization = value.decode("latin-1")
        elif lowered == b"openai-organization":
            requested = value.decode("latin-1")
    organization = app.auth.organization_for(authorization, requested)
    scope.setdefault("state", {})["organization"] = organization
    return app, organization


def stream_drops(request: Request) -> StreamDrops:
    """The app's StreamDrops, made on first use."""
    found: StreamDrops | None = getattr(request.app.state, "stream_drops", None)
    if found is None:
        found = request.app.state.stream_drops = StreamDrops()
    return found


def json_response(body: Any, status_code: int = 200) -> JSONResponse:
    """A JSON body in the given key order."""
    return JSONResponse(body, status_code=status_code)
