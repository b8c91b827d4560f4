"""Errors: one envelope for unknown routes, wrong methods, bad JSON and bad types; never a 422 or a 500."""

from __future__ import annotations

import httpx
import pytest

from emulator.core.errors import INVALID_JSON_BODY
from tests.conftest import assert_error


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/model/babbage-similarity"),
        ("GET", "/v1"),
        ("PUT", "/v1/models"),
        ("POST", "/v1/models"),
        ("DELETE", "/v1/fine-tunes/ft-abc"),
        ("PATCH", "/v1/files"),
        ("GET", "/nothing-here"),
    ],
)
def test_unknown_route_is_invalid_url(client: httpx.Client, method: str, path: str) -> None:
    url = str(client.base_url).removesuffix("/v1/").removesuffix("/v1") + path
    assert_error(client.request(method, url), 404, f"Invalid URL ({method} {path})")


@pytest.mark.parametrize("body", [b"{bad", b"\xff\xfe", b"[1, 2", b"nul"])
def test_create_fine_tune_unparseable_json(client: httpx.Client, body: bytes) -> None:
    response = client.post("/fine-tunes", content=body, headers={"Content-Type": "application/json"})
    assert_error(response, 400, INVALID_JSON_BODY)


def test_create_fine_tune_json_that_is_not_an_object(client: httpx.Client) -> None:
    assert_error(client.post("/fine-tunes", json=[1]), 400, "[1] is not of type 'object'")


def test_list_fine_tune_events_bad_stream_flag(client: httpx.Client) -> None:
    assert_error(
        client.get("/fine-tunes/ft-x/events?stream=maybe"),
        400,
        "'maybe' is not of type 'boolean' - 'stream'",
        param="stream",
    )
