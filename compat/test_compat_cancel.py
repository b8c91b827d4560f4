"""With a manual clock: a --no_follow job cancelled by the legacy CLI, and Ctrl-C during follow."""

from __future__ import annotations

import json
import select
import signal
import subprocess
from pathlib import Path

import httpx

from compat.conftest import Legacy, legacy_python
from compat.test_compat_api import ok, write_training

SERVER_SETTINGS = {"speed": "60", "clock": "manual"}


def test_fine_tunes_cancel_a_no_follow_job(legacy: Legacy, tmp_path: Path) -> None:
    out = ok(legacy.run("api", "fine_tunes.create", "-t", str(write_training(tmp_path)), "-m", "curie", "--no_follow"))
    job = json.loads(out[out.index("{") :])
    assert job["status"] == "pending"
    cancelled = json.loads(ok(legacy.run("api", "fine_tunes.cancel", "-i", job["id"])))
    assert cancelled["status"] == "cancelled"
    assert cancelled["events"][-1]["message"] == "Fine-tune cancelled"
    follow = ok(legacy.run("api", "fine_tunes.follow", "-i", job["id"]))
    assert follow.rstrip().endswith("] Fine-tune cancelled")


def test_fine_tunes_follow_sigint_leaves_the_job_running(
    legacy: Legacy, tmp_path: Path, ftemu_http: httpx.Client
) -> None:
    out = ok(legacy.run("api", "fine_tunes.create", "-t", str(write_training(tmp_path)), "-m", "curie", "--no_follow"))
    job_id = json.loads(out[out.index("{") :])["id"]
    command = [str(legacy_python().parent / "openai"), "api", "fine_tunes.follow", "-i", job_id]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=legacy.env(PYTHONUNBUFFERED="1"),
    )
    # Ctrl-C once the CLI is streaming (its handler is in place by then), however long its imports take.
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], 60.0)
    first = process.stdout.readline() if ready else ""
    assert "Created fine-tune" in first, first
    process.send_signal(signal.SIGINT)
    rest, _ = process.communicate(timeout=30)
    stdout = first + rest
    assert process.returncode == 0, stdout
    assert "Stream interrupted. Job is still pending." in stdout
    assert f"openai api fine_tunes.cancel -i {job_id}" in stdout
    assert ftemu_http.get(f"/fine-tunes/{job_id}").json()["status"] == "pending"
