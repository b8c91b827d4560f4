"""The transport's promises: bounded retries with backoff honouring Retry-After, and the error tree."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest

from client import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    Client,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    StreamError,
    UnprocessableError,
)

Handler = Callable[[httpx.Request], httpx.Response]


def envelope(
    message: str, type: str = "invalid_request_error", param: str | None = None, code: str | None = None
) -> dict[str, object]:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def scripted(*responses: httpx.Response | Exception) -> tuple[Client, list[httpx.Request], list[float]]:
    """A Client whose transport answers with `responses` in order; sleeps are recorded, not slept."""
    requests: list[httpx.Request] = []
    slept: list[float] = []
    queue = list(responses)

    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        item = queue.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    http = httpx.Client(transport=httpx.MockTransport(answer))
    client = Client("http://ftemu.test/v1", "sk-test", http=http, sleep=slept.append)
    return client, requests, slept


OK_LIST = httpx.Response(200, json={"object": "list", "data": []})


def test_request_retries_429_after_the_retry_after_seconds() -> None:
    client, requests, slept = scripted(
        httpx.Response(429, headers={"Retry-After": "3"}, json=envelope("Slow down", "requests")), OK_LIST
    )
    assert client.files.list() == {"object": "list", "data": []}
    assert len(requests) == 2 and slept == [3.0]


def test_request_retries_5xx_with_growing_backoff() -> None:
    client, requests, slept = scripted(
        httpx.Response(502, text="bad gateway"), httpx.Response(503, json=envelope("busy", "server_error")), OK_LIST
    )
    client.models.list()
    assert len(requests) == 3
    assert 0.375 <= slept[0] <= 0.5 and 0.75 <= slept[1] <= 1.0


def test_request_gives_up_after_max_retries() -> None:
    failing = [httpx.Response(500, json=envelope("The server had an error", "server_error")) for _ in range(3)]
    client, requests, slept = scripted(*failing)
    with pytest.raises(InternalServerError) as caught:
        client.files.list()
    assert len(requests) == 3 and len(slept) == 2
    assert caught.value.line() == "Error: The server had an error (HTTP status code: 500)"


def test_request_retry_after_longer_than_the_cap_is_not_waited() -> None:
    client, requests, slept = scripted(httpx.Response(429, headers={"Retry-After": "3600"}, json=envelope("quota")))
    with pytest.raises(RateLimitError):
        client.files.list()
    assert len(requests) == 1 and slept == []


def test_request_retries_a_refused_connection_then_raises_connection_error() -> None:
    refused = [httpx.ConnectError("refused") for _ in range(3)]
    client, requests, _ = scripted(*refused)
    with pytest.raises(APIConnectionError, match=re.escape("Error communicating with http://ftemu.test/v1")):
        client.fine_tunes.list()
    assert len(requests) == 3


def test_request_post_is_not_retried_after_a_read_error() -> None:
    client, requests, _ = scripted(httpx.ReadError("reset"), OK_LIST)
    with pytest.raises(APIConnectionError):
        client.fine_tunes.create("file-x")
    assert len(requests) == 1


def test_request_get_is_retried_after_a_read_error() -> None:
    client, requests, _ = scripted(httpx.ReadError("reset"), OK_LIST)
    assert client.files.list()["data"] == []
    assert len(requests) == 2


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (415, UnprocessableError),
        (418, APIStatusError),
    ],
)
def test_error_envelope_maps_to_its_exception(status: int, kind: type[APIStatusError]) -> None:
    client, _, _ = scripted(httpx.Response(status, json=envelope("Nope", param="id", code="c")))
    with pytest.raises(kind) as caught:
        client.files.retrieve("file-x")
    error = caught.value
    assert type(error) is kind
    assert (error.status, error.message, error.type, error.param, error.code) == (
        status,
        "Nope",
        "invalid_request_error",
        "id",
        "c",
    )


def test_error_without_envelope_keeps_the_body_in_the_message() -> None:
    client, _, _ = scripted(httpx.Response(404, text="<html>gone</html>"))
    with pytest.raises(NotFoundError, match=re.escape("Invalid response object from API: '<html>gone</html>'")):
        client.files.retrieve("file-x")


def test_stream_error_payload_raises_stream_error() -> None:
    body = 'data: {"id": "cmpl-1", "choices": []}\n\ndata: {"error": {"message": "boom", "type": "server_error"}}\n\n'
    client, _, _ = scripted(httpx.Response(200, headers={"content-type": "text/event-stream"}, text=body))
    chunks = client.completions.create("ada", "Hi", stream=True)
    assert next(chunks)["id"] == "cmpl-1"
    with pytest.raises(StreamError) as caught:
        next(chunks)
    assert caught.value.line() == "Error: boom (Error occurred while streaming.)"


def test_follow_gives_up_after_streams_that_never_open() -> None:
    failures = [httpx.ConnectError("refused") for _ in range(20)]
    client, requests, slept = scripted(*failures)
    with pytest.raises(APIConnectionError, match="closed early 3 times in a row"):
        list(client.fine_tunes.follow("ft-x", max_reconnects=2))
    assert len(requests) == 9 and len(slept) == 8


def test_follow_reconnects_after_an_early_end_and_skips_the_replay() -> None:
    def stream(*messages: str, done: bool) -> httpx.Response:
        lines = [f'data: {{"object": "fine-tune-event", "message": "{m}", "created_at": 1}}\n\n' for m in messages]
        text = "".join(lines) + ("data: [DONE]\n\n" if done else "")
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, text=text)

    client, requests, slept = scripted(stream("a", "b", done=False), stream("a", "b", "c", done=True))
    assert [event["message"] for event in client.fine_tunes.follow("ft-x")] == ["a", "b", "c"]
    assert len(requests) == 2 and slept == []
    assert requests[0].url.params["stream"] == "true"
