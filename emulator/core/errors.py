"""One error type, one envelope: APIError, a failure the client sees as {"error": {message, type, param, code}}."""

from __future__ import annotations

from typing import Any

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


def invalid_request(message: str, param: str | None = None, code: str | None = None) -> APIError:
    return APIError(400, message, param=param, code=code)


def not_found(message: str, param: str | None = None, code: str | None = None) -> APIError:
    return APIError(404, message, param=param, code=code)


def invalid_url(method: str, path: str) -> APIError:
    return APIError(404, f"Invalid URL ({method} {path})")


SERVER_ERROR = "The server had an error while processing your request. Sorry about that!"


def server_error() -> APIError:
    return APIError(500, SERVER_ERROR, type="server_error")
