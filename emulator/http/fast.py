"""A direct path to plain routes: an endpoint that takes only the request and path strings skips FastAPI's machinery.

FastAPI's per-request work (dependency solving, its router, the exit-stack middleware) was three quarters of the
cost of `GET /v1/models`. A route whose endpoint is a coroutine taking `request: Request` and `str` path
parameters (and nothing FastAPI must inject) gives the same answer when called directly, so this middleware
matches such routes first and calls them itself; any other request, or a method a path does not allow, goes on
to FastAPI untouched (which renders 404/405 and validation errors as before). Failures are handled by the app's
own exception handlers, so the envelope is the same either way.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.convertors import Convertor
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

Endpoint = Callable[..., Awaitable[Any]]


def _plain(route: APIRoute) -> bool:
    """An async endpoint whose parameters are the request and the path's own string parameters."""
    if not inspect.iscoroutinefunction(route.endpoint) or route.status_code not in (None, 200):
        return False
    if route.response_class is not None and getattr(route.response_class, "value", route.response_class) not in (
        JSONResponse,
    ):
        return False
    for name, parameter in inspect.signature(route.endpoint).parameters.items():
        if parameter.default is not inspect.Parameter.empty:
            return False
        if parameter.annotation in (Request, "Request"):
            continue
        if name not in route.param_convertors or parameter.annotation not in (str, "str"):
            return False
    return True


def _request_name(endpoint: Endpoint) -> str:
    return next(
        name for name, p in inspect.signature(endpoint).parameters.items() if p.annotation in (Request, "Request")
    )


@dataclass(frozen=True)
class _Route:
    pattern: re.Pattern[str]
    convertors: dict[str, Convertor[Any]]
    methods: frozenset[str]
    endpoint: Endpoint
    request_name: str | None  # None: not plain, FastAPI serves it


def _routes(routers: Sequence[tuple[str, APIRouter]]) -> list[_Route]:
    """Every route of the routers, in the order FastAPI matches them."""
    found = []
    for prefix, router in routers:
        for route in router.routes:
            if not isinstance(route, APIRoute):
                continue
            pattern, _, convertors = compile_path(prefix + route.path)
            name = _request_name(route.endpoint) if _plain(route) else None
            found.append(_Route(pattern, convertors, frozenset(route.methods or ()), route.endpoint, name))
    return found


class FastRoutes:
    """ASGI middleware: plain routes are called directly, everything else goes on to the FastAPI app."""

    def __init__(self, app: ASGIApp, api: FastAPI, routers: Sequence[tuple[str, APIRouter]]) -> None:
        self.app = app
        self.api = api
        self.routes = _routes(routers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path, method = scope["path"], scope["method"]
            for route in self.routes:
                found = route.pattern.match(path)
                if found is None or method not in route.methods:
                    continue
                if route.request_name is None:  # the route FastAPI will choose too: the first full match
                    break
                params = {key: route.convertors[key].convert(value) for key, value in found.groupdict().items()}
                scope["path_params"] = params
                await self._call(route, scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _call(self, route: _Route, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)
        try:
            assert route.request_name is not None
            result = await route.endpoint(**{route.request_name: request}, **scope["path_params"])
            response = result if isinstance(result, Response) else JSONResponse(result)
        except Exception as exc:
            response = await self._handled(request, exc)
        await response(scope, receive, send)

    async def _handled(self, request: Request, exc: Exception) -> Response:
        """The app's own handler for the exception's type (the nearest in its MRO), as ExceptionMiddleware does."""
        for kind in type(exc).__mro__:
            handler = self.api.exception_handlers.get(kind)
            if handler is not None:
                response = handler(request, exc)
                return await response if inspect.isawaitable(response) else response
        raise exc
