"""The client's one exception tree, mapped from the error envelope and the HTTP status.

::

    FtemuError                      anything this client raises on purpose
    ├── APIConnectionError          no usable response: refused, reset, DNS, unreadable stream
    │   └── APITimeoutError         the request timed out
    └── APIStatusError              the server answered with an error envelope (or a non-JSON error)
        ├── BadRequestError         400 (invalid_request_error: bad parameter, bad file, ...)
        ├── AuthenticationError     401 (missing or incorrect API key)
        ├── PermissionDeniedError   403 (e.g. deleting a base model)
        ├── NotFoundError           404 (unknown id, unknown model, unknown URL)
        ├── ConflictError           409 (the model is still loading: try again)
        ├── UnprocessableError      415, 422
        ├── RateLimitError          429 (honours Retry-After when retrying)
        ├── InternalServerError     5xx
        └── StreamError             an `{"error": ...}` payload inside a 200 event stream

Every APIStatusError carries `status`, `message`, `type`, `param`, `code` and the parsed `body`; `str(error)`
is the message, and `error.line()` is the CLI's `Error: message (HTTP status code: N)`.
"""

from __future__ import annotations

from typing import Any


class FtemuError(Exception):
    """Base of every error the client raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def line(self) -> str:
        """The CLI's error line."""
        return f"Error: {self.message}"


class APIConnectionError(FtemuError):
    """The request got no usable response."""


class APITimeoutError(APIConnectionError):
    """The request timed out."""


class APIStatusError(FtemuError):
    """The server answered with an error status."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        type: str | None = None,
        param: str | None = None,
        code: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type
        self.param = param
        self.code = code
        self.body = body

    def line(self) -> str:
        return f"Error: {self.message} (HTTP status code: {self.status})"


class BadRequestError(APIStatusError):
    """400."""


class AuthenticationError(APIStatusError):
    """401."""


class PermissionDeniedError(APIStatusError):
    """403."""


class NotFoundError(APIStatusError):
    """404."""


class ConflictError(APIStatusError):
    """409."""


class UnprocessableError(APIStatusError):
    """415 and 422."""


class RateLimitError(APIStatusError):
    """429."""


class InternalServerError(APIStatusError):
    """5xx."""


class StreamError(APIStatusError):
    """An error payload inside a 200 event stream."""

    def line(self) -> str:
        return f"Error: {self.message} (Error occurred while streaming.)"


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    415: UnprocessableError,
    422: UnprocessableError,
    429: RateLimitError,
}


def error_class(status: int) -> type[APIStatusError]:
    if status >= 500:
        return InternalServerError
    return _BY_STATUS.get(status, APIStatusError)


def from_response(status: int, body: Any, text: str) -> APIStatusError:
    """Map an error response (envelope or not) onto the tree."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return error_class(status)(
            error["message"],
            status=status,
            type=error.get("type"),
            param=error.get("param"),
            code=error.get("code"),
            body=body,
        )
    shown = text if len(text) <= 200 else text[:200] + "..."
    return error_class(status)(f"Invalid response object from API: {shown!r}", status=status, body=body)


def from_stream_payload(payload: dict[str, Any]) -> StreamError:
    error = payload.get("error")
    fields = error if isinstance(error, dict) else {"message": str(error)}
    return StreamError(
        str(fields.get("message")),
        status=200,
        type=fields.get("type"),
        param=fields.get("param"),
        code=fields.get("code"),
        body=payload,
    )
