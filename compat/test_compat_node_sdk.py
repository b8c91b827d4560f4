"""The latest `openai` Node SDK (installed from the npm registry into a temporary directory), unmodified, runs the
modern lifecycle against a live ftemu: create, follow, events paged, checkpoints, models, continue, delete,
failures, cancel, pause and resume."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator import Settings
from emulator.testing import LiveServer

SCRIPT = Path(__file__).resolve().parent / "node" / "lifecycle.mjs"
MODEL = "gpt-4o-mini-2024-07-18"


@pytest.fixture(scope="module")
def node_sdk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temporary directory with `openai` (latest) installed by npm, and the script beside it."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("node and npm are needed for the Node SDK test (node 20 or later)")
    directory = tmp_path_factory.mktemp("node-sdk")
    (directory / "package.json").write_text('{"name": "ftemu-node-compat", "private": true, "type": "module"}')
    done = subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", "openai@latest"],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    shutil.copy(SCRIPT, directory / SCRIPT.name)
    return directory


@pytest.fixture
def server() -> Iterator[LiveServer]:
    with LiveServer(Settings(memory=True, clock="manual", speed="60", seed=11)) as live:
        yield live


def test_node_sdk_runs_the_modern_lifecycle(node_sdk: Path, server: LiveServer) -> None:
    done = subprocess.run(
        ["node", SCRIPT.name, server.base_url, server.root_url + "/_emulator"],
        cwd=node_sdk,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["created"] == "validating_files" and seen["statuses"][-1] == "succeeded"
    assert "running" in seen["statuses"] and seen["model"].startswith(f"ft:{MODEL}:personal:node:")
    assert seen["events"][:4] == [
        f"Created fine-tuning job: {seen['jobId']}",
        f"Validating training file: {seen['fileId']}",
        "Files validated, moving job to queued state",
        "Fine-tuning job started",
    ]
    assert seen["events"][-2:] == [
        f"New fine-tuned model created: {seen['model']}",
        "The job has successfully completed",
    ]
    assert len(set(seen["eventIds"])) == len(seen["eventIds"]) == 4 + 96 + 7 + 2
    assert seen["checkpoints"] == [96, 84, 72] and seen["listed"] is True
    assert seen["continued"][0] == "succeeded" and seen["continued"][1].startswith(f"ft:{MODEL}:personal::")
    assert (seen["deleted"], seen["missing"]) == (True, 404)
    assert seen["seven"] == {
        "code": "invalid_n_examples",
        "message": "Training file has 7 example(s), but must have at least 10 examples",
        "param": "training_file",
    }
    assert seen["dpo"]["code"] == "invalid_training_file" and "provided method=dpo" in seen["dpo"]["message"]
    assert seen["cancelled"] == "cancelled"
    assert seen["pause"] == ["paused", "paused", "running", "succeeded"]
