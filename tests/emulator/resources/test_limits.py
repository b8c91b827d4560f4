"""Requests refused by their declared size before their body is read: uploads over the room, JSON over the cap."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

from starlette.applications import Starlette

from emulator import Settings, create_app
from emulator.testing import LiveServer
from tests.conftest import assert_error, in_process

STORAGE = (
    "Currently, the size of all the files uploaded by one organization can be up to 1 MB. Your organization "
    "already stores {used} bytes; delete files to make room."
)


def call(app: Starlette, method: str, path: str, headers: dict[str, str]) -> tuple[int, dict[str, Any], int]:
    """(status, JSON body, times the body was asked for) of one ASGI request whose body is never sent."""
    asked = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal asked
        asked += 1
        raise AssertionError("the body was read")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 1),
        "server": ("ftemu", 80),
    }
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], json.loads(body), asked


def upload_headers(size: int) -> dict[str, str]:
    return {
        "Authorization": "Bearer sk-test",
        "Content-Type": "multipart/form-data; boundary=x",
        "Content-Length": str(size),
    }


def test_create_file_declared_over_the_room_is_refused_before_the_body_is_read() -> None:
    app = create_app(Settings(memory=True, storage_limit=1_000_000))
    status, body, asked = call(app, "POST", "/v1/files", upload_headers(1_100_000))
    assert (status, asked) == (400, 0)
    assert body == {
        "error": {"message": STORAGE.format(used=0), "type": "invalid_request_error", "param": "file", "code": None}
    }


def test_create_file_declared_over_the_room_left_counts_stored_files() -> None:
    app = create_app(Settings(memory=True, storage_limit=1_000_000))
    http = in_process(app)
    stored = http.post(
        "/files",
        files={"file": ("a.jsonl", b'{"prompt": "a", "completion": "b"}\n' * 20_000)},
        data={"purpose": "fine-tune"},
    )
    assert stored.status_code == 200
    used = stored.json()["bytes"]
    status, body, asked = call(app, "POST", "/v1/files", upload_headers(1_000_000 - used + 70_000))
    assert (status, asked, body["error"]["message"]) == (400, 0, STORAGE.format(used=used))


def test_create_file_declared_within_the_room_is_read() -> None:
    http = in_process(create_app(Settings(memory=True, storage_limit=1_000_000)))
    response = http.post(
        "/files", files={"file": ("a.jsonl", b'{"prompt": "a", "completion": "b"}\n')}, data={"purpose": "fine-tune"}
    )
    assert response.status_code == 200


def test_create_file_declared_size_without_a_key_is_still_401() -> None:
    app = create_app(Settings(memory=True, storage_limit=1_000_000))
    headers = upload_headers(5_000_000)
    del headers["Authorization"]
    status, body, _ = call(app, "POST", "/v1/files", headers)
    assert status == 401 and body["error"]["type"] == "invalid_request_error"


def test_json_body_declared_over_the_cap_is_413_before_it_is_read() -> None:
    app = create_app(Settings(memory=True, max_json_body=1000))
    headers = {"Authorization": "Bearer sk-test", "Content-Type": "application/json", "Content-Length": "1001"}
    status, body, asked = call(app, "POST", "/v1/completions", headers)
    assert (status, asked) == (413, 0)
    assert body == {
        "error": {
            "message": "The request body is 1001 bytes; the limit is 1000 bytes.",
            "type": "invalid_request_error",
            "param": None,
            "code": "request_too_large",
        }
    }


def test_json_body_at_the_cap_is_read() -> None:
    http = in_process(create_app(Settings(memory=True, max_json_body=1000)))
    response = http.post("/completions", json={"model": "ada", "prompt": "x" * 900, "max_tokens": 1})
    assert response.status_code == 200


def test_create_file_declared_over_the_room_over_a_socket_answers_without_the_body() -> None:
    server = LiveServer(Settings(memory=True, storage_limit=1_000_000))
    with server, socket.create_connection((server.settings.host, server.settings.port), timeout=5) as sock:
        head = "\r\n".join(
            ["POST /v1/files HTTP/1.1", "Host: x", *(f"{k}: {v}" for k, v in upload_headers(1_100_000_000).items())]
        )
        sock.sendall(head.encode() + b"\r\n\r\n--x\r\n")
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):  # head and body may come apart
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    status_line, _, rest = answer.decode().partition("\r\n")
    assert status_line == "HTTP/1.1 400 Bad Request"
    error = json.loads(rest.partition("\r\n\r\n")[2])["error"]
    assert error["message"] == STORAGE.format(used=0) and error["param"] == "file"


def test_assert_error_shape_for_a_too_large_completion_body() -> None:
    http = in_process(create_app(Settings(memory=True, max_json_body=10)))
    response = http.post("/completions", json={"model": "ada", "prompt": "hello"})
    assert_error(
        response,
        413,
        f"The request body is {len(response.request.content)} bytes; the limit is 10 bytes.",
        code="request_too_large",
    )
