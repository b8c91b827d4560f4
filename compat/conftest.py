"""The legacy `openai==0.28.1` CLI (installed by `make compat` in .venv-compat) against a live ftemu."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from emulator import Settings
from emulator.testing import LiveServer

ROOT = Path(__file__).resolve().parent.parent
KEY = "sk-compat-0123456789abcdef"


def compat_python(variable: str, venv: str, what: str) -> Path:
    """The python of an environment `make compat` installs: $variable, else ROOT/venv."""
    path = Path(os.environ.get(variable, ROOT / venv / "bin" / "python"))
    if not path.exists():
        pytest.fail(f"the {what} environment is missing ({path}); run `make compat`")
    return path


def legacy_python() -> Path:
    return compat_python("FTEMU_COMPAT_PYTHON", ".venv-compat", "legacy")


@dataclass
class Legacy:
    """Runs `openai ...` (0.28.1) with OPENAI_API_BASE pointed at a server."""

    base_url: str
    key: str = KEY

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
        env.update(OPENAI_API_BASE=self.base_url, OPENAI_API_KEY=self.key, TZ="UTC", PYTHONIOENCODING="utf-8")
        env.update(extra)
        return env

    def run(
        self, *args: str, input: str | None = None, cwd: Path | None = None, timeout: float = 120, **env: str
    ) -> subprocess.CompletedProcess[str]:
        command = [str(legacy_python().parent / "openai"), *args]
        return subprocess.run(
            command,
            input=input,
            capture_output=True,
            text=True,
            cwd=cwd,
            env=self.env(**env),
            timeout=timeout,
            check=False,
        )

    def python(self, code: str, *, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(legacy_python()), "-c", code],
            capture_output=True,
            text=True,
            cwd=cwd,
            env=self.env(),
            timeout=timeout,
            check=False,
        )


@pytest.fixture(scope="module")
def compat_server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """A live server per module; a module may set `SERVER_SETTINGS = {...}` to change its settings."""
    changes = getattr(request.module, "SERVER_SETTINGS", {})
    values = {"memory": True, "speed": "instant", "seed": 11, **changes}
    with LiveServer(Settings(**values)) as server:
        yield server


@pytest.fixture
def legacy(compat_server: LiveServer) -> Iterator[Legacy]:
    httpx.post(compat_server.root_url + "/_emulator/reset").raise_for_status()
    yield Legacy(compat_server.base_url)


@pytest.fixture
def ftemu_http(compat_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=compat_server.base_url, headers={"Authorization": f"Bearer {KEY}"}) as http:
        yield http


LegacyFactory = Callable[..., Legacy]
