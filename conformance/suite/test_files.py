"""Files (§2.1-2.5): upload, list, retrieve, delete and download, as the legacy clients see them."""

from __future__ import annotations

import pytest

from conformance.handle import Ftemu
from conformance.suite.support import FILE_KEYS, ID_24, assert_error, capitals, jsonl

behaviour = pytest.mark.behaviour


@behaviour("§2.1", "Uploading a JSONL file returns the file object in the real key order, status `uploaded`")
def test_create_file_returns_the_file_object(ftemu: Ftemu) -> None:
    data = jsonl(capitals(3))
    body = ftemu.upload(data, name="data/train.jsonl")
    assert list(body) == FILE_KEYS
    assert body["id"].startswith("file-") and ID_24.fullmatch(body["id"][5:])
    assert (body["object"], body["purpose"], body["filename"], body["bytes"]) == (
        "file",
        "fine-tune",
        "data/train.jsonl",
        len(data),
    )
    assert (body["status"], body["status_details"]) == ("uploaded", None)
    assert isinstance(body["created_at"], int)


@behaviour("§2.1", "An uploaded file becomes `processed` once it has been validated")
def test_retrieve_file_becomes_processed(ftemu: Ftemu) -> None:
    file_id = ftemu.upload(jsonl(capitals(3)))["id"]
    for _ in range(60):
        body = ftemu.http.get(f"/files/{file_id}").json()
        if body["status"] == "processed":
            break
        if not ftemu.emulator:
            import time

            time.sleep(1)
    assert (body["id"], body["status"], body["status_details"]) == (file_id, "processed", None)


@behaviour("§9.2", "A purpose other than `fine-tune` is refused with the validator's message")
def test_create_file_other_purpose_is_400(ftemu: Ftemu) -> None:
    response = ftemu.http.post("/files", files={"file": ("a.jsonl", jsonl(capitals(1)))}, data={"purpose": "search"})
    assert_error(
        response,
        400,
        "'search' is not one of ['assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals'] - 'purpose'",
        param="purpose",
    )


@behaviour("§9.2", "An upload without `purpose` is refused: `'purpose' is a required property`")
def test_create_file_missing_purpose_is_400(ftemu: Ftemu) -> None:
    response = ftemu.http.post("/files", files={"file": ("a.jsonl", jsonl(capitals(1)))})
    assert_error(response, 400, "'purpose' is a required property", param="purpose")


@behaviour("§9.2", "A fine-tune file that is not JSONL is refused with the JSONL hint naming the bad line")
def test_create_file_not_jsonl_is_400(ftemu: Ftemu) -> None:
    response = ftemu.http.post("/files", files={"file": ("a.jsonl", b"not json\n")}, data={"purpose": "fine-tune"})
    assert_error(
        response,
        400,
        "Expected file to have JSONL format, where every line is a valid JSON dictionary. "
        'Line 1 is not a dictionary (HINT: line starts with: "not...").',
    )


@behaviour("§2.2", "Listing files gives `{object: list, data, first_id, last_id, has_more}`, newest first")
def test_list_files_newest_first(ftemu: Ftemu) -> None:
    first = ftemu.upload(jsonl(capitals(2)))["id"]
    second = ftemu.upload(jsonl(capitals(3)))["id"]
    body = ftemu.http.get("/files").json()
    assert list(body) == ["object", "data", "first_id", "last_id", "has_more"] and body["object"] == "list"
    ids = [f["id"] for f in body["data"]]
    assert ids.index(second) < ids.index(first)
    assert all(list(f) == FILE_KEYS for f in body["data"])


@behaviour("§2.3", "Retrieving an unknown file id is a 404 `No such File object: <id>`")
def test_retrieve_file_unknown_id_is_404(ftemu: Ftemu) -> None:
    assert_error(ftemu.http.get("/files/file-nope"), 404, "No such File object: file-nope", param="id")


@behaviour("§1.3", "The CLI's local-path probe (`GET /files/data%2Ftrain.jsonl`) gets a JSON 404")
def test_retrieve_file_local_path_probe_is_json_404(ftemu: Ftemu) -> None:
    assert_error(ftemu.http.get("/files/data%2Ftrain.jsonl"), 404, "No such File object: data/train.jsonl", param="id")


@behaviour("§2.4", "Deleting a file answers `{object, id, deleted: true}` and the file is gone")
def test_delete_file_then_it_is_gone(ftemu: Ftemu) -> None:
    file_id = ftemu.upload(jsonl(capitals(2)))["id"]
    response = ftemu.http.delete(f"/files/{file_id}")
    assert response.status_code == 200
    assert list(response.json().items()) == [("object", "file"), ("id", file_id), ("deleted", True)]
    assert_error(ftemu.http.get(f"/files/{file_id}"), 404, f"No such File object: {file_id}", param="id")
    assert file_id not in [f["id"] for f in ftemu.http.get("/files").json()["data"]]


@behaviour("§2.5", "Downloading a file returns its exact bytes as an octet-stream attachment")
def test_download_file_returns_the_exact_bytes(ftemu: Ftemu) -> None:
    data = jsonl(capitals(4)) + '{"prompt": "ünïcode ->", "completion": " ✓\\n"}\n'.encode()
    file_id = ftemu.upload(data, name="train.jsonl")["id"]
    response = ftemu.http.get(f"/files/{file_id}/content")
    assert response.status_code == 200 and response.content == data
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"] == 'attachment; filename="train.jsonl"'
