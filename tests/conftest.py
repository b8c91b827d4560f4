"""Shared fixtures: the app in-process (TestClient, no sockets) and the same app over a live uvicorn socket."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from conformance.suite.support import assert_error, jsonl
from emulator import Settings, create_app
from emulator.testing import LiveServer

KEY = "sk-test-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {KEY}"}
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def fast_settings(**changes: Any) -> Settings:
    """In memory, manual clock, fixed seed: every test is exact and repeatable."""
    values: dict[str, Any] = {"memory": True, "clock": "manual", "seed": 7, "speed": "60"}
    values.update(changes)
    return Settings(**values)


@pytest.fixture
def make_app() -> Iterator[Callable[..., Starlette]]:
    made: list[Starlette] = []

    def make(**changes: Any) -> Starlette:
        app = create_app(fast_settings(**changes))
        made.append(app)
        return app

    yield make
    for app in made:
        app.state.core.close()


def in_process(app: Starlette, headers: dict[str, str] | None = None) -> TestClient:
    return TestClient(
        app,
        base_url="http://testserver/v1",
        headers=AUTH if headers is None else headers,
        raise_server_exceptions=False,
    )


@pytest.fixture
def app(make_app: Callable[..., Starlette]) -> Starlette:
    return make_app()


@pytest.fixture
def api(app: Starlette) -> TestClient:
    """An authenticated client for the default app, in-process."""
    return in_process(app)


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    with LiveServer(fast_settings()) as server:
        yield server


@pytest.fixture(params=["in-process", "server"])
def client(request: pytest.FixtureRequest, make_app: Callable[..., Starlette]) -> Iterator[httpx.Client]:
    """The same behaviour, twice: in-process over ASGI and over a real uvicorn socket (clean slate each)."""
    if request.param == "in-process":
        yield in_process(make_app())
        return
    server: LiveServer = request.getfixturevalue("live_server")
    with httpx.Client(base_url=server.base_url, headers=AUTH, timeout=30) as http:
        http.post(server.root_url + "/_emulator/reset").raise_for_status()
        yield http


def capitals(count: int = 100) -> list[dict[str, str]]:
    """A capitals data set: prompt ends with the separator, completion with the end marker."""
    known = [
        ("Poland", "Warsaw"),
        ("France", "Paris"),
        ("Japan", "Tokyo"),
        ("Kenya", "Nairobi"),
        ("Peru", "Lima"),
        ("Canada", "Ottawa"),
        ("Egypt", "Cairo"),
        ("Norway", "Oslo"),
    ]
    rows = [
        {"prompt": f"The capital of {country} is\n\n###\n\n", "completion": f" {city}\n"} for country, city in known
    ]
    rows += [
        {"prompt": f"The capital of Country{i} is\n\n###\n\n", "completion": f" City{i}\n"}
        for i in range(count - len(rows))
    ]
    return rows[:count]


def upload(
    http: httpx.Client,
    records: list[dict[str, Any]] | bytes,
    name: str = "train.jsonl",
    purpose: str = "fine-tune",
) -> dict[str, Any]:
    data = records if isinstance(records, bytes) else jsonl(records)
    response = http.post("/files", files={"file": (name, data)}, data={"purpose": purpose})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


__all__ = ["assert_error", "jsonl"]
