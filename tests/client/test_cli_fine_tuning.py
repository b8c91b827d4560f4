"""`ftemu api fine_tuning.jobs.*` in the 1.x openai CLI's grammar, in-process and over a socket."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.client.cli_harness import Ftemu
from tests.emulator.v1.support import chat_lines, jsonl

MODEL = "gpt-4o-mini-2024-07-18"


@pytest.fixture
def chat(tmp_path: Path) -> Path:
    path = tmp_path / "chat.jsonl"
    path.write_bytes(jsonl(chat_lines(12)))
    return path


def test_fine_tuning_jobs_create_retrieve_list_cancel(ftemu: Ftemu, chat: Path) -> None:
    file_id = ftemu.json("api", "files.create", "-f", str(chat), "-p", "fine-tune")["id"]
    job = ftemu.json("api", "fine_tuning.jobs.create", "-m", MODEL, "-F", file_id, "-s", "cli", "-H", '{"n_epochs": 2}')
    assert (job["status"], job["user_provided_suffix"], job["hyperparameters"]["n_epochs"]) == (
        "validating_files",
        "cli",
        2,
    )
    assert ftemu.json("api", "fine_tuning.jobs.retrieve", "-i", job["id"])["id"] == job["id"]
    listed = ftemu.json("api", "fine_tuning.jobs.list", "-l", "5")
    assert [j["id"] for j in listed["data"]] == [job["id"]] and listed["has_more"] is False
    assert ftemu.json("api", "fine_tuning.jobs.cancel", "-i", job["id"])["status"] == "cancelled"
    events = ftemu.json("api", "fine_tuning.jobs.list_events", "-i", job["id"], "-l", "1")
    assert events["data"][0]["message"] == "Fine-tuning job cancelled" and events["has_more"] is True


def test_fine_tuning_jobs_pause_resume_and_checkpoints(ftemu: Ftemu, chat: Path) -> None:
    job = ftemu.json("api", "fine_tuning.jobs.create", "-m", MODEL, "-F", str(chat))
    while ftemu.json("api", "fine_tuning.jobs.retrieve", "-i", job["id"])["status"] != "running":
        ftemu.advance(0.25)
    assert ftemu.json("api", "fine_tuning.jobs.pause", "-i", job["id"])["status"] == "paused"
    assert ftemu.json("api", "fine_tuning.jobs.resume", "-i", job["id"])["status"] == "running"
    ftemu.advance(100_000)
    checkpoints = ftemu.json("api", "fine_tuning.jobs.checkpoints.list", "-i", job["id"])
    assert [c["step_number"] for c in checkpoints["data"]] == [96, 84, 72]


def test_fine_tuning_jobs_create_follow_prints_steps_and_the_model(instant: Ftemu, chat: Path) -> None:
    result = instant("api", "fine_tuning.jobs.create", "-m", MODEL, "-F", str(chat), "-s", "f", "--follow")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].startswith(f"Uploaded file from {chat}: file-")
    assert lines[1].startswith("Created fine-tuning job: ftjob-")
    assert lines[2].endswith(lines[1])
    assert any(line.endswith("Step 96/96: training loss=" + line.rsplit("=", 1)[-1]) for line in lines)
    assert lines[-1].startswith(f"Job succeeded. Model: ft:{MODEL}:personal:f:")


def test_fine_tuning_jobs_follow_on_a_terminal_shows_step_and_loss(instant: Ftemu, chat: Path) -> None:
    job = instant.json("api", "fine_tuning.jobs.create", "-m", MODEL, "-F", str(chat))
    result = instant("api", "fine_tuning.jobs.follow", "-i", job["id"], terminal=True)
    assert "[running] step 96/96, training loss " in result.out


def test_fine_tuning_jobs_failed_follow_exits_1(instant: Ftemu, tmp_path: Path) -> None:
    seven = tmp_path / "seven.jsonl"
    seven.write_bytes(jsonl(chat_lines(7)))
    result = instant("api", "fine_tuning.jobs.create", "-m", MODEL, "-F", str(seven), "--follow")
    assert result.code == 1
    assert "Training file has 7 example(s), but must have at least 10 examples" in result.out
