"""Helpers for lifecycle tests: moving the manual clock, creating jobs, reading messages."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import capitals, upload


def control_url(http: httpx.Client, path: str) -> str:
    return str(http.base_url).rstrip("/").removesuffix("/v1") + "/_emulator" + path


def advance(http: httpx.Client, seconds: float) -> float:
    response = http.post(control_url(http, "/clock/advance"), json={"seconds": seconds})
    assert response.status_code == 200, response.text
    now: float = response.json()["now"]
    return now


def create_job(http: httpx.Client, records: list[dict[str, str]] | None = None, **body: Any) -> dict[str, Any]:
    file_id = upload(http, records or capitals(100))["id"]
    response = http.post("/fine-tunes", json={"training_file": file_id, **body})
    assert response.status_code == 200, response.text
    job: dict[str, Any] = response.json()
    return job


def get_job(http: httpx.Client, job_id: str) -> dict[str, Any]:
    job: dict[str, Any] = http.get(f"/fine-tunes/{job_id}").json()
    return job


def messages(job: dict[str, Any]) -> list[str]:
    return [event["message"] for event in job["events"]]


def run_to_end(http: httpx.Client, job_id: str, step: float = 3600) -> dict[str, Any]:
    for _ in range(50):
        job = get_job(http, job_id)
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job
        advance(http, step)
    raise AssertionError(f"{job_id} never finished")
