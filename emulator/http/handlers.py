"""The handlers that render every failure the OpenAI way: APIError, Starlette's 404/405 (a crash: the Guard)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from emulator.core.errors import APIError, invalid_url
from emulator.http.middleware import HEAD_SCOPE_KEY


def error_response(error: APIError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


async def _on_api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, APIError)
    return error_response(exc)


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code in (404, 405):
        method = "HEAD" if request.scope.get(HEAD_SCOPE_KEY) else request.method
        return error_response(invalid_url(method, request.url.path))
    return error_response(APIError(exc.status_code, str(exc.detail)))


# Starlette's ExceptionMiddleware and the Routes layer both render failures with these.
ERROR_HANDLERS: dict[Any, Callable[[Request, Exception], Awaitable[Response]]] = {
    APIError: _on_api_error,
    StarletteHTTPException: _on_http_error,
}
