"""The CLI tests' harness: `ftemu ...` against one app in-process or over a live server, and its fixtures."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from client.testing import CliResult, run_cli
from emulator.testing import LiveServer
from tests.conftest import KEY, capitals, fast_settings, in_process, jsonl

PROMPT = "The capital of France is\n\n###\n\n"


CLEAR = "\r\x1b[K"


@dataclass
class Ftemu:
    """`ftemu -k KEY [-b URL] ...` against one app, plus its test-control plane."""

    http: httpx.Client | None
    control: httpx.Client
    base_url: str | None = None
    args: list[str] = field(default_factory=list)

    def __call__(self, *argv: str, stdin: str = "", terminal: bool = False) -> CliResult:
        return run_cli([*self.args, *argv], http=self.http, stdin=stdin, terminal=terminal)

    @property
    def prefix(self) -> str:
        return f"ftemu -b {self.base_url} api" if self.base_url else "ftemu api"

    def advance(self, seconds: float) -> None:
        self.control.post("/_emulator/clock/advance", json={"seconds": seconds}).raise_for_status()

    def json(self, *argv: str) -> Any:
        result = self(*argv, "--json")
        assert result.code == 0, result.err
        return json.loads(result.out)


def make_ftemu(mode: str, speed: str, make_app: Callable[..., Starlette], request: pytest.FixtureRequest) -> Ftemu:
    if mode == "in-process":
        app = make_app(speed=speed)
        return Ftemu(in_process(app), TestClient(app), args=["-k", KEY])
    server = request.getfixturevalue("servers")[speed]
    control = httpx.Client(base_url=server.root_url, timeout=30)
    control.post("/_emulator/reset").raise_for_status()
    return Ftemu(None, control, server.base_url, ["-b", server.base_url, "-k", KEY])


def tuned_job(ftemu: Ftemu, train: Path) -> dict[str, Any]:
    created = ftemu.json("api", "fine_tunes.create", "-t", str(train), "-m", "ada", "--no_follow")
    ftemu.advance(3600)
    job: dict[str, Any] = ftemu.json("api", "fine_tunes.get", "-i", created["id"])
    assert job["status"] == "succeeded"
    return job


def event_lines(job: dict[str, Any]) -> list[str]:
    return [
        f"[{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(e['created_at']))}] {e['message']}" for e in job["events"]
    ]


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("OPENAI_API_KEY", "OPENAI_API_BASE", "OPENAI_BASE_URL", "FTEMU_API_BASE", "OPENAI_ORGANIZATION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, LiveServer]]:
    with LiveServer(fast_settings()) as slow, LiveServer(fast_settings(speed="instant")) as instant:
        yield {"60": slow, "instant": instant}


@pytest.fixture(params=["in-process", "server"])
def ftemu(request: pytest.FixtureRequest, make_app: Callable[..., Starlette]) -> Ftemu:
    """Manual clock at speed 60: jobs wait until the test moves the clock."""
    return make_ftemu(request.param, "60", make_app, request)


@pytest.fixture(params=["in-process", "server"])
def instant(request: pytest.FixtureRequest, make_app: Callable[..., Starlette]) -> Ftemu:
    """Jobs finish the moment they are created."""
    return make_ftemu(request.param, "instant", make_app, request)


@pytest.fixture
def train(tmp_path: Path) -> Path:
    path = tmp_path / "train.jsonl"
    path.write_bytes(jsonl(capitals(20)))
    return path
