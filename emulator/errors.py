"""One error type, one envelope: APIError and the handlers that render every failure the OpenAI way."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("ftemu")

INVALID_JSON_BODY = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP "
    "library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you "
    "have trouble figuring out how to fix this, please contact us through our help center at "
    "help.openai.com.)"
)


class APIError(Exception):
    """A failure the client should see, rendered as {"error": {message, type, param, code}}."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def invalid_request(message: str, param: str | None = None, code: str | None = None) -> APIError:
    return APIError(400, message, param=param, code=code)


def not_found(message: str, param: str | None = None, code: str | None = None) -> APIError:
    return APIError(404, message, param=param, code=code)


def invalid_url(method: str, path: str) -> APIError:
    return APIError(404, f"Invalid URL ({method} {path})")


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
    return exc.response()


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    message, param = _validation_message(dict(exc.errors()[0]) if exc.errors() else {})
    return APIError(400, message, param=param).response()


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code in (404, 405):
        return invalid_url(request.method, request.url.path).response()
    return APIError(exc.status_code, str(exc.detail)).response()


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return APIError(
        500,
        "The server had an error while processing your request. Sorry about that!",
        type="server_error",
    ).response()


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(APIError, _on_api_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)
