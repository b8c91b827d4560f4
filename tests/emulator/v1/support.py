"""Shared data and helpers for the modern API's tests: chat, preference and reinforcement files; sync in-process."""

from __future__ import annotations

import json
from typing import Any

import httpx
import httpx2
from starlette.applications import Starlette
from starlette.testclient import TestClient


def chat_lines(count: int = 12) -> list[dict[str, Any]]:
    """A chat-format training set: Marv, the sarcastic assistant, adding one."""
    return [
        {
            "messages": [
                {"role": "system", "content": "Marv is a factual chatbot that is also sarcastic."},
                {"role": "user", "content": f"What is {i} plus one?"},
                {"role": "assistant", "content": f"{i + 1}, obviously. Did you need a calculator?"},
            ]
        }
        for i in range(count)
    ]


def preference_lines(count: int = 12) -> list[dict[str, Any]]:
    return [
        {
            "input": {"messages": [{"role": "user", "content": f"Say hello to person {i}."}]},
            "preferred_output": [{"role": "assistant", "content": f"Hello, person {i}!"}],
            "non_preferred_output": [{"role": "assistant", "content": "Go away."}],
        }
        for i in range(count)
    ]


def jsonl(records: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(record) + "\n" for record in records).encode()


def sync_transport(app: Starlette) -> httpx2.MockTransport:
    """The app in-process for a sync httpx2 client (the openai SDK 3.x): each request goes through TestClient."""
    client = TestClient(app, raise_server_exceptions=True)

    def handle(request: httpx2.Request) -> httpx2.Response:
        response = client.request(
            request.method, str(request.url), headers=dict(request.headers), content=request.read()
        )
        return httpx2.Response(response.status_code, headers=response.headers.multi_items(), content=response.content)

    return httpx2.MockTransport(handle)


def all_events(http: httpx.Client, job_id: str, limit: int = 7) -> list[dict[str, Any]]:
    """Every event of a job, newest first, paged with `after` as the SDK pages them."""
    events: list[dict[str, Any]] = []
    while True:
        params: dict[str, Any] = {"limit": limit} | ({"after": events[-1]["id"]} if events else {})
        body = http.get(f"/fine_tuning/jobs/{job_id}/events", params=params).json()
        events += body["data"]
        if not body["has_more"]:
            return events
