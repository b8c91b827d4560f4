"""/v1/uploads: parts, complete with ordered part ids and the byte total, cancel, expiry; the SDK's chunked upload."""

from __future__ import annotations

from typing import Any

import httpx
import httpx2
import openai
from starlette.applications import Starlette

from tests.conftest import KEY, assert_error
from tests.emulator.legacy.lifecycle import advance
from tests.emulator.v1.support import chat_lines, jsonl, sync_transport


def start(http: httpx.Client, size: int, purpose: str = "fine-tune") -> dict[str, Any]:
    body = {"filename": "train.jsonl", "purpose": purpose, "bytes": size, "mime_type": "application/jsonl"}
    response = http.post("/uploads", json=body)
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created


def part(http: httpx.Client, upload_id: str, data: bytes) -> str:
    response = http.post(f"/uploads/{upload_id}/parts", files={"data": ("blob", data)})
    assert response.status_code == 200, response.text
    assert response.json()["object"] == "upload.part"
    return str(response.json()["id"])


def test_upload_in_parts_completes_into_a_file(client: httpx.Client) -> None:
    data = jsonl(chat_lines(12))
    upload = start(client, len(data))
    assert upload["id"].startswith("upload_") and upload["status"] == "pending" and upload["file"] is None
    assert upload["expires_at"] == upload["created_at"] + 3600
    ids = [part(client, upload["id"], data[:100]), part(client, upload["id"], data[100:])]
    done = client.post(f"/uploads/{upload['id']}/complete", json={"part_ids": ids}).json()
    assert (
        done["status"] == "completed" and done["file"]["purpose"] == "fine-tune" and done["file"]["bytes"] == len(data)
    )
    assert client.get(f"/files/{done['file']['id']}/content").content == data


def test_complete_upload_with_the_wrong_byte_total_is_400(client: httpx.Client) -> None:
    upload = start(client, 10)
    ids = [part(client, upload["id"], b"12345")]
    response = client.post(f"/uploads/{upload['id']}/complete", json={"part_ids": ids})
    message = "The parts hold 5 bytes, but the upload was created for 10 bytes."
    assert_error(response, 400, message, param="part_ids")


def test_cancelled_and_expired_uploads_take_no_parts(client: httpx.Client) -> None:
    cancelled = start(client, 5)
    assert client.post(f"/uploads/{cancelled['id']}/cancel").json()["status"] == "cancelled"
    response = client.post(f"/uploads/{cancelled['id']}/parts", files={"data": ("blob", b"12345")})
    message = f"Upload {cancelled['id']} is cancelled; only pending uploads can change."
    assert_error(response, 400, message, param="upload_id")
    expiring = start(client, 5)
    advance(client, 3601)
    response = client.post(f"/uploads/{expiring['id']}/parts", files={"data": ("blob", b"12345")})
    assert_error(
        response, 400, f"Upload {expiring['id']} is expired; only pending uploads can change.", param="upload_id"
    )


def test_sdk_upload_file_chunked_makes_a_fine_tune_file(app: Starlette) -> None:
    data = jsonl(chat_lines(40))
    with httpx2.Client(transport=sync_transport(app), base_url="http://ftemu") as http:
        client = openai.OpenAI(base_url="http://ftemu/v1", api_key=KEY, max_retries=0, http_client=http)
        upload = client.uploads.upload_file_chunked(
            file=data,
            filename="train.jsonl",
            bytes=len(data),
            mime_type="application/jsonl",
            purpose="fine-tune",
            part_size=1000,
        )
        assert upload.status == "completed" and upload.file is not None
        assert client.files.content(upload.file.id).read() == data
