"""Shared pieces of the behaviour suite: a small data set, whole-envelope error checks, id shapes."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx2 as httpx

from conformance.handle import Ftemu

ID_24 = re.compile(r"[A-Za-z0-9]{24}")
FILE_KEYS = ["object", "id", "purpose", "filename", "bytes", "created_at", "status", "status_details"]
FINE_TUNE_KEYS = [
    "object",
    "id",
    "hyperparams",
    "organization_id",
    "model",
    "training_files",
    "validation_files",
    "result_files",
    "created_at",
    "updated_at",
    "status",
    "fine_tuned_model",
    "events",
]


def jsonl(records: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(record) + "\n" for record in records).encode()


def capitals(count: int = 20) -> list[dict[str, str]]:
    """Prompts end with a separator, completions start with a space and end with a newline."""
    return [{"prompt": f"The capital of Country{i} is\n\n###\n\n", "completion": f" City{i}\n"} for i in range(count)]


def training_file(ftemu: Ftemu, count: int = 20) -> str:
    file_id: str = ftemu.upload(jsonl(capitals(count)))["id"]
    return file_id


def create_fine_tune(ftemu: Ftemu, **body: Any) -> dict[str, Any]:
    body.setdefault("model", "ada")
    if "training_file" not in body:
        body["training_file"] = training_file(ftemu)
    response = ftemu.http.post("/fine-tunes", json=body)
    assert response.status_code == 200, response.text
    job: dict[str, Any] = response.json()
    return job


def assert_error(
    response: httpx.Response,
    status: int,
    message: str,
    *,
    type: str = "invalid_request_error",
    param: str | None = None,
    code: str | None = None,
) -> None:
    """The whole envelope: status, and all four keys."""
    assert response.status_code == status, response.text
    assert response.json() == {"error": {"message": message, "type": type, "param": param, "code": code}}


def messages(job: dict[str, Any]) -> list[str]:
    return [event["message"] for event in job["events"]]
