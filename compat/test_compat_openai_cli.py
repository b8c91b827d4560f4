"""The 1.x `openai` CLI (`openai>=1.40,<2.35`, installed by `make compat` in .venv-compat-1x), unmodified: its
`fine_tuning.jobs.*` commands against a live ftemu with a manual clock."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from compat.conftest import compat_python
from emulator import Settings
from emulator.testing import LiveServer
from tests.emulator.v1.support import chat_lines, jsonl

MODEL = "gpt-4o-mini-2024-07-18"


def cli_python() -> Path:
    return compat_python("FTEMU_COMPAT_1X_PYTHON", ".venv-compat-1x", "1.x CLI")


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer(Settings(memory=True, clock="manual", speed="60", seed=11)) as live:
        yield live


def openai(server: LiveServer, *args: str) -> Any:
    # The 1.x CLI joins -b and the path as given: the base needs its trailing slash.
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    done = subprocess.run(
        [str(cli_python().parent / "openai"), "-b", server.base_url + "/", "-k", "sk-cli-0123456789", "api", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def advance(server: LiveServer, seconds: float) -> None:
    httpx.post(server.root_url + "/_emulator/clock/advance", json={"seconds": seconds}).raise_for_status()


def test_openai_cli_fine_tuning_jobs_commands(server: LiveServer, tmp_path: Path) -> None:
    path = tmp_path / "chat.jsonl"
    path.write_bytes(jsonl(chat_lines(12)))
    file_id = openai(server, "files.create", "-f", str(path), "-p", "fine-tune")["id"]
    job = openai(server, "fine_tuning.jobs.create", "-m", MODEL, "-F", file_id, "-s", "cli", "-H", '{"n_epochs": 2}')
    assert (job["status"], job["user_provided_suffix"], job["hyperparameters"]["n_epochs"]) == (
        "validating_files",
        "cli",
        2,
    )
    other = openai(server, "fine_tuning.jobs.create", "-m", MODEL, "-F", file_id)
    assert openai(server, "fine_tuning.jobs.cancel", "-i", other["id"])["status"] == "cancelled"
    advance(server, 100_000)
    done = openai(server, "fine_tuning.jobs.retrieve", "-i", job["id"])
    assert done["status"] == "succeeded" and done["fine_tuned_model"].startswith(f"ft:{MODEL}:personal:cli:")
    listed = openai(server, "fine_tuning.jobs.list", "-l", "1")
    assert [j["id"] for j in listed["data"]] == [other["id"]] and listed["has_more"] is True
    assert [j["id"] for j in openai(server, "fine_tuning.jobs.list", "-a", other["id"])["data"]] == [job["id"]]
    events = openai(server, "fine_tuning.jobs.list_events", "-i", job["id"], "-l", "2")
    assert [e["message"] for e in events["data"]] == [
        "The job has successfully completed",
        f"New fine-tuned model created: {done['fine_tuned_model']}",
    ]
    older = openai(server, "fine_tuning.jobs.list_events", "-i", job["id"], "-a", events["data"][-1]["id"], "-l", "1")
    assert older["data"][0]["message"] == "Step 24/24: training loss=" + f"{older['data'][0]['data']['train_loss']:.2f}"
    assert openai(server, "models.delete", "-i", done["fine_tuned_model"])["deleted"] is True
