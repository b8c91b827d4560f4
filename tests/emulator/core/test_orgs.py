"""Auth and organisations: the real 401s, the key mask, --keys isolation, response headers."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from emulator.core.orgs import MISSING_KEY, load_keys, mask_key
from tests.conftest import assert_error, capitals, in_process, upload


@pytest.mark.parametrize("header", [None, "", "Bearer", "Basic abc"])
def test_list_models_without_a_key_is_401(client: httpx.Client, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    client.headers.pop("Authorization", None)
    assert_error(client.get("/models", headers=headers), 401, MISSING_KEY)


@pytest.mark.parametrize(
    ("key", "masked"),
    [
        (
            "sk-WRQsP123456789012345678901234567890123456789xQBt",
            "sk-WRQsP***************************************xQBt",
        ),
        ("your-openai-api-key", "your-ope*******-key"),
        ("sk-short12", "sk-*****12"),
        ("abc", "***"),
    ],
)
def test_mask_key_matches_the_real_mask(key: str, masked: str) -> None:
    assert mask_key(key) == masked


@pytest.fixture
def keys_file(tmp_path: Path) -> Path:
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"sk-alpha-000000000001": "alpha", "sk-beta-0000000000002": "beta"}))
    return path


def test_list_models_with_an_unknown_key_is_401(make_app: Callable[..., Starlette], keys_file: Path) -> None:
    api = in_process(make_app(keys=str(keys_file)), {"Authorization": "Bearer sk-wrong-key-123456"})
    assert_error(
        api.get("/models"),
        401,
        "Incorrect API key provided: sk-wrong*******3456. You can find your "
        "API key at https://platform.openai.com/account/api-keys.",
        code="invalid_api_key",
    )


def test_retrieve_file_of_another_organization_is_404(make_app: Callable[..., Starlette], keys_file: Path) -> None:
    app = make_app(keys=str(keys_file))
    alpha = in_process(app, {"Authorization": "Bearer sk-alpha-000000000001"})
    beta = in_process(app, {"Authorization": "Bearer sk-beta-0000000000002"})
    file_id = upload(alpha, capitals(3))["id"]
    assert_error(beta.get(f"/files/{file_id}"), 404, f"No such File object: {file_id}", param="id")
    assert_error(beta.delete(f"/files/{file_id}"), 404, f"No such File object: {file_id}", param="id")
    assert beta.get("/files").json()["data"] == []
    job = alpha.post("/fine-tunes", json={"training_file": file_id}).json()
    assert_error(beta.get(f"/fine-tunes/{job['id']}"), 404, f"No such fine-tune: {job['id']}", param="id")
    assert beta.get("/fine-tunes").json()["data"] == []
    assert_error(
        beta.post("/fine-tunes", json={"training_file": file_id}),
        400,
        f"No such File object: {file_id}",
        param="training_file",
    )


def test_keys_file_may_be_toml(tmp_path: Path) -> None:
    path = tmp_path / "keys.toml"
    path.write_text('"sk-one" = "acme"\n"sk-two" = "acme"\n')
    assert load_keys(path) == {"sk-one": "acme", "sk-two": "acme"}


def test_keys_file_that_is_neither_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "keys.txt"
    path.write_text("sk-one acme\n")
    with pytest.raises(ValueError, match="neither JSON nor TOML"):
        load_keys(path)


def test_responses_carry_the_openai_headers(client: httpx.Client) -> None:
    response = client.get("/models")
    assert response.headers["openai-organization"] == "personal"
    assert response.headers["openai-version"] == "2020-10-01"
    assert int(response.headers["openai-processing-ms"]) >= 0
    assert response.headers["x-request-id"].startswith("req_")


def test_organization_header_must_match_the_key(make_app: Callable[..., Starlette], keys_file: Path) -> None:
    app = make_app(keys=str(keys_file))
    alpha = in_process(app, {"Authorization": "Bearer sk-alpha-000000000001"})
    org_id = alpha.post(
        "/files",
        files={"file": ("t.jsonl", b'{"prompt":"a","completion":"b"}\n')},
        data={"purpose": "fine-tune"},
    ).status_code
    assert org_id == 200
    assert alpha.get("/models", headers={"OpenAI-Organization": "alpha"}).status_code == 200
    assert_error(
        alpha.get("/models", headers={"OpenAI-Organization": "beta"}),
        401,
        "OpenAI-Organization header should match organization for API key",
        code="mismatched_organization",
    )
