"""The handlers that render every failure the OpenAI way: APIError, FastAPI's 422, Starlette's 404/405, a crash."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from emulator.core.errors import INVALID_JSON_BODY, APIError, invalid_url
from emulator.http.middleware import HEAD_SCOPE_KEY


def error_response(error: APIError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


def _validation_message(error: dict[str, Any]) -> tuple[str, str | None]:
    """Turn one of FastAPI's validation errors into the wording of the real API's validator."""
    location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")]
    param = ".".join(location) or None
    kind = str(error.get("type", ""))
    if kind == "json_invalid":
        return INVALID_JSON_BODY, None
    if kind == "missing":
        return f"'{location[-1] if location else param}' is a required property", param
    given = error.get("input")
    return f"{given!r} is not valid under any of the given schemas - '{param}'", param


async def _on_api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, APIError)
    return error_response(exc)


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    message, param = _validation_message(dict(exc.errors()[0]) if exc.errors() else {})
    return error_response(APIError(400, message, param=param))


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code in (404, 405):
        method = "HEAD" if request.scope.get(HEAD_SCOPE_KEY) else request.method
        return error_response(invalid_url(method, request.url.path))
    return error_response(APIError(exc.status_code, str(exc.detail)))


def install_error_handlers(app: FastAPI) -> None:
    """The envelope for every failure (a crash is rendered by the Guard middleware, which create_app adds)."""
    app.add_exception_handler(APIError, _on_api_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
