"""Errors and auth (§1.1, §9): the one envelope, the real 401 texts, unknown routes and malformed bodies."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from conformance.handle import Ftemu
from conformance.suite.support import assert_error, training_file

behaviour = pytest.mark.behaviour
MISSING_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer "
    "auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're "
    "accessing the API from your browser and are prompted for a username and password. You can obtain an API "
    "key from https://platform.openai.com/account/api-keys."
)
INVALID_JSON = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP "
    "library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you "
    "have trouble figuring out how to fix this, please contact us through our help center at "
    "help.openai.com.)"
)
KEYS_FILE = str(Path(tempfile.gettempdir()) / "ftemu-conformance-keys.json")
WRONG_KEY = "sk-WRQsPwrongwrongwrongwrongwrongwrongwrongxQBt"


@behaviour("§9.2", "No Authorization header: 401 with the real `You didn't provide an API key` text")
def test_request_without_key_is_401(ftemu: Ftemu) -> None:
    response = ftemu.http.get("/models", headers={"Authorization": ""})
    assert_error(response, 401, MISSING_KEY)


@behaviour("§1.1", "An empty bearer key (`Authorization: Bearer `) is answered like a missing key")
def test_request_with_empty_key_is_401(ftemu: Ftemu) -> None:
    """HTTP drops the trailing space of `Bearer `, so on the wire this is `Bearer` with nothing after it."""
    assert_error(ftemu.http.get("/files", headers={"Authorization": "Bearer"}), 401, MISSING_KEY)


@pytest.fixture
def keys_file() -> str:
    Path(KEYS_FILE).write_text(json.dumps({"sk-conformance-right-key-000000": "acme"}), encoding="utf-8")
    return KEYS_FILE


@pytest.mark.ftemu(keys=KEYS_FILE)
@behaviour("§9.2", "A wrong key: 401 `Incorrect API key provided` with the key masked, code `invalid_api_key`")
def test_request_with_wrong_key_is_401(keys_file: str, ftemu: Ftemu) -> None:
    response = ftemu.http.get("/models", headers={"Authorization": f"Bearer {WRONG_KEY}"})
    masked = WRONG_KEY[:8] + "*" * (len(WRONG_KEY) - 12) + WRONG_KEY[-4:]
    assert_error(
        response,
        401,
        f"Incorrect API key provided: {masked}. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        code="invalid_api_key",
    )


@behaviour("§2.15, §9.2", "An unknown route is a 404 `Invalid URL (<METHOD> <path>)`")
def test_unknown_route_is_invalid_url(ftemu: Ftemu) -> None:
    assert_error(ftemu.http.get("/model/babbage-similarity"), 404, "Invalid URL (GET /v1/model/babbage-similarity)")


@behaviour("§2.15", "A known path with the wrong method is also `Invalid URL`, never a bare 405")
def test_wrong_method_is_invalid_url(ftemu: Ftemu) -> None:
    assert_error(ftemu.http.put("/fine-tunes"), 404, "Invalid URL (PUT /v1/fine-tunes)")


@behaviour("§9.2", "A body that is not JSON: 400 `We could not parse the JSON body of your request`")
def test_create_fine_tune_invalid_json_is_400(ftemu: Ftemu) -> None:
    response = ftemu.http.post("/fine-tunes", content=b"{not json", headers={"Content-Type": "application/json"})
    assert_error(response, 400, INVALID_JSON)


@behaviour("§9.1, §12", "A wrongly typed field is a 400 in the envelope, never FastAPI's 422 `{detail}`")
def test_create_fine_tune_wrong_type_is_400(ftemu: Ftemu) -> None:
    body = {"training_file": training_file(ftemu), "n_epochs": "four"}
    assert_error(
        ftemu.http.post("/fine-tunes", json=body), 400, "'four' is not of type 'integer' - 'n_epochs'", param="n_epochs"
    )


@behaviour("§1.4", "Responses carry `openai-version` and `x-request-id`; an authenticated one `openai-organization`")
def test_response_headers(ftemu: Ftemu) -> None:
    response = ftemu.http.get("/models")
    assert response.headers["openai-version"] == "2020-10-01"
    assert response.headers["x-request-id"] and response.headers["openai-organization"]
    assert response.headers["content-type"].startswith("application/json")
