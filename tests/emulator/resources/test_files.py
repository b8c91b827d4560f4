"""Files: upload, list, retrieve, download, delete; the fine-tune JSONL check; limits; nothing half-written."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from tests.conftest import assert_error, capitals, in_process, jsonl, upload

JSONL_ERROR = "Expected file to have JSONL format, where every line is a valid JSON dictionary."
KEYS_ERROR = "Expected file to have JSONL format with prompt/completion keys."


def test_create_file_returns_the_real_object(client: httpx.Client) -> None:
    data = jsonl(capitals(3))
    body = upload(client, data, name="data/train.jsonl")
    assert list(body) == [
        "object",
        "id",
        "purpose",
        "filename",
        "bytes",
        "created_at",
        "status",
        "status_details",
    ]
    assert body["id"].startswith("file-") and len(body["id"]) == 29 and body["id"][5:].isalnum()
    assert (body["purpose"], body["filename"], body["bytes"]) == ("fine-tune", "data/train.jsonl", len(data))
    assert (body["status"], body["status_details"]) == ("uploaded", None)


def test_retrieve_file_after_upload_is_processed(client: httpx.Client) -> None:
    file_id = upload(client, capitals(3))["id"]
    body = client.get(f"/files/{file_id}").json()
    assert (body["id"], body["status"]) == (file_id, "processed")


def test_list_files_newest_first(client: httpx.Client) -> None:
    first, second = upload(client, capitals(2))["id"], upload(client, capitals(3))["id"]
    body = client.get("/files").json()
    assert list(body) == ["object", "data", "first_id", "last_id", "has_more"] and body["object"] == "list"
    assert [f["id"] for f in body["data"]] == [second, first]
    assert (body["first_id"], body["last_id"], body["has_more"]) == (second, first, False)
    assert [f["id"] for f in client.get("/files", params={"order": "asc"}).json()["data"]] == [first, second]


def test_download_file_returns_the_exact_bytes(client: httpx.Client) -> None:
    data = jsonl(capitals(5)) + '{"prompt": "ünïcode", "completion": " ✓"}\n'.encode()
    file_id = upload(client, data, name="train.jsonl")["id"]
    response = client.get(f"/files/{file_id}/content")
    assert response.status_code == 200 and response.content == data
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"] == 'attachment; filename="train.jsonl"'


def test_delete_file_then_it_is_gone(client: httpx.Client) -> None:
    file_id = upload(client, capitals(2))["id"]
    assert client.delete(f"/files/{file_id}").json() == {"object": "file", "id": file_id, "deleted": True}
    assert_error(client.get(f"/files/{file_id}"), 404, f"No such File object: {file_id}", param="id")
    assert client.get("/files").json()["data"] == []


@pytest.mark.parametrize("method", ["get", "delete"])
def test_retrieve_file_unknown_id_is_404(client: httpx.Client, method: str) -> None:
    assert_error(client.request(method.upper(), "/files/file-nope"), 404, "No such File object: file-nope", param="id")


def test_retrieve_file_local_path_probe_is_json_404(client: httpx.Client) -> None:
    """The legacy CLI probes GET /files/<local path> (quote_plus-encoded) before uploading (§8.3)."""
    assert_error(client.get("/files/data%2Ftrain.jsonl"), 404, "No such File object: data/train.jsonl", param="id")


BAD_FILES = [
    (b"not json\n", f'{JSONL_ERROR} Line 1 is not a dictionary (HINT: line starts with: "not...").'),
    (b"[1, 2]\n", f'{JSONL_ERROR} Line 1 is not a dictionary (HINT: line starts with: "[1,...").'),
    (
        b'{"prompt": "a", "completion": "b"}\n"x"\n',
        f'{JSONL_ERROR} Line 2 is not a dictionary (HINT: line starts with: ""x"...").',
    ),
    (b'{"completion": "b"}\n', f"{KEYS_ERROR} Missing `prompt` key on line 1."),
    (b'{"prompt": "a"}\n', f"{KEYS_ERROR} Missing `completion` key on line 1."),
    (b'{"prompt": 1, "completion": "b"}\n', f"{KEYS_ERROR} The `prompt` value on line 1 must be a string."),
    (
        b'{"prompt": "a", "completion": null}\n',
        f"{KEYS_ERROR} The `completion` value on line 1 must be a string.",
    ),
    (b"", f"{JSONL_ERROR} The file is empty."),
    (b"\n\n  \n", f"{JSONL_ERROR} The file is empty."),
    (b'{"prompt": "a", "completion": "\xff"}\n', f"{JSONL_ERROR} Line 1 is not valid UTF-8."),
]


@pytest.mark.parametrize(("data", "message"), BAD_FILES)
def test_create_file_malformed_jsonl_is_refused_and_nothing_stored(
    client: httpx.Client, data: bytes, message: str
) -> None:
    response = client.post("/files", files={"file": ("bad.jsonl", data)}, data={"purpose": "fine-tune"})
    assert_error(response, 400, message)
    assert client.get("/files").json()["data"] == []


def test_create_file_wrong_purpose(client: httpx.Client) -> None:
    response = client.post("/files", files={"file": ("t.jsonl", jsonl(capitals(2)))}, data={"purpose": "search"})
    assert_error(
        response,
        400,
        "'search' is not one of ['assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals'] - 'purpose'",
        param="purpose",
    )


def test_create_file_missing_purpose(client: httpx.Client) -> None:
    response = client.post("/files", files={"file": ("t.jsonl", jsonl(capitals(2)))})
    assert_error(response, 400, "'purpose' is a required property", param="purpose")


def test_create_file_missing_file(client: httpx.Client) -> None:
    assert_error(
        client.post("/files", data={"purpose": "fine-tune"}),
        400,
        "'file' is a required property",
        param="file",
    )


def test_create_file_json_body_instead_of_multipart(client: httpx.Client) -> None:
    assert_error(
        client.post("/files", json={"purpose": "fine-tune"}),
        400,
        "'file' is a required property",
        param="file",
    )


def test_create_file_over_the_storage_limit(make_app: Callable[..., Starlette]) -> None:
    api = in_process(make_app(storage_limit=1000))
    upload(api, capitals(5))
    response = api.post("/files", files={"file": ("big.jsonl", jsonl(capitals(40)))}, data={"purpose": "fine-tune"})
    used = api.get("/files").json()["data"][0]["bytes"]
    assert_error(
        response,
        400,
        "Currently, the size of all the files uploaded by one organization can be up to "
        f"1 KB. Your organization already stores {used} bytes; delete files to make room.",
        param="file",
    )
    assert len(api.get("/files").json()["data"]) == 1


def test_create_file_survives_a_restart(make_app: Callable[..., Starlette], tmp_path: Path) -> None:
    first = make_app(memory=False, data_dir=str(tmp_path))
    data = jsonl(capitals(3))
    file_id = upload(in_process(first), data)["id"]
    first.state.core.close()
    again = in_process(make_app(memory=False, data_dir=str(tmp_path)))
    assert again.get(f"/files/{file_id}").json()["bytes"] == len(data)
    assert again.get(f"/files/{file_id}/content").content == data
    assert upload(again, data)["id"] != file_id


def test_create_file_leaves_no_partial_blob(make_app: Callable[..., Starlette], tmp_path: Path) -> None:
    api = in_process(make_app(memory=False, data_dir=str(tmp_path)))
    good = jsonl(capitals(50))
    response = api.post("/files", files={"file": ("t.jsonl", good + b"oops\n")}, data={"purpose": "fine-tune"})
    assert response.status_code == 400
    assert [p.name for p in (tmp_path / "files").iterdir()] == []


def test_create_file_large_upload_is_streamed(client: httpx.Client) -> None:
    row = json.dumps({"prompt": "x" * 500, "completion": " y\n"}).encode() + b"\n"
    data = row * 6000
    body = upload(client, data)
    assert body["bytes"] == len(data)
