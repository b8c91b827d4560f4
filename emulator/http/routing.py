"""Routes without a framework: routers record endpoints, one ASGI layer matches them in order and calls them.

Every endpoint is a coroutine taking the request (as `request`) and its path's parameters as strings, and
returning a JSON-able body or a Response. Nothing is injected or validated by signature: the endpoints read and
check their own input (emulator.http.params), so a request costs a regex match and a call, and starting the
server imports no web framework beyond Starlette. A path that matches no route (or not for this method) goes on
to the app's own router, which has none: Starlette's 404, which the app renders as the real API's
"Invalid URL". Failures are rendered by the app's exception handlers, as Starlette's ExceptionMiddleware would.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.convertors import Convertor
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

Endpoint = Callable[..., Awaitable[Any]]
Handler = Callable[[Request, Exception], Awaitable[Response]]


@dataclass(frozen=True)
class Route:
    """One endpoint at one path template (`{name}` or `{name:path}`) for some methods."""

    path: str
    methods: frozenset[str]
    endpoint: Endpoint
    pattern: re.Pattern[str]
    convertors: dict[str, Convertor[Any]]

    def match(self, path: str) -> dict[str, Any] | None:
        found = self.pattern.match(path)
        if found is None:
            return None
        return {key: self.convertors[key].convert(value) for key, value in found.groupdict().items()}


class Router:
    """The routes of one resource, in the order they are declared."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.routes: list[tuple[str, frozenset[str], Endpoint]] = []

    def route(self, path: str, methods: Sequence[str]) -> Callable[[Endpoint], Endpoint]:
        def record(endpoint: Endpoint) -> Endpoint:
            wanted = {"request", *(name.partition(":")[0] for name in re.findall(r"{([^}]+)}", path))}
            if not inspect.iscoroutinefunction(endpoint) or set(inspect.signature(endpoint).parameters) != wanted:
                raise TypeError(f"{endpoint.__name__}: an endpoint is a coroutine taking {sorted(wanted)}")
            self.routes.append((self.prefix + path, frozenset(methods), endpoint))
            return endpoint

        return record

    def get(self, path: str) -> Callable[[Endpoint], Endpoint]:
        return self.route(path, ["GET"])

    def post(self, path: str) -> Callable[[Endpoint], Endpoint]:
        return self.route(path, ["POST"])

    def delete(self, path: str) -> Callable[[Endpoint], Endpoint]:
        return self.route(path, ["DELETE"])


def route_table(routers: Sequence[tuple[str, Router]]) -> list[Route]:
    """Every route of the routers (each under its prefix), in matching order."""
    table = []
    for prefix, router in routers:
        for path, methods, endpoint in router.routes:
            pattern, _, convertors = compile_path(prefix + path)
            table.append(Route(prefix + path, methods, endpoint, pattern, convertors))
    return table


class Routes:
    """ASGI middleware: the first route whose path and method match answers; anything else goes on to `app`."""

    def __init__(self, app: ASGIApp, table: list[Route], handlers: Mapping[Any, Handler]) -> None:
        self.app = app
        self.table = table
        self.handlers = handlers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path, method = scope["path"], scope["method"]
            for route in self.table:
                if method not in route.methods:
                    continue
                params = route.match(path)
                if params is not None:
                    scope["path_params"] = params
                    await self._call(route, scope, receive, send)
                    return
        await self.app(scope, receive, send)

    async def _call(self, route: Route, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)
        try:
            result = await route.endpoint(request=request, **scope["path_params"])
            response = result if isinstance(result, Response) else JSONResponse(result)
        except Exception as exc:
            response = await self._handled(request, exc)
        await response(scope, receive, send)

    async def _handled(self, request: Request, exc: Exception) -> Response:
        """The app's handler for the exception's type (the nearest in its MRO), as ExceptionMiddleware does."""
        for kind in type(exc).__mro__:
            handler = self.handlers.get(kind)
            if handler is not None:
                return await handler(request, exc)
        raise exc
