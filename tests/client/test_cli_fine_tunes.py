"""`ftemu api fine_tunes.*`: create, follow (status line, dropped streams, Ctrl-C), list, get, cancel, results."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from client.testing import CliResult, run_cli
from emulator.testing import LiveServer
from tests.client.cli_harness import CLEAR, Ftemu, event_lines, make_ftemu, tuned_job
from tests.conftest import KEY, capitals, in_process, jsonl


def test_fine_tunes_create_uploads_and_follows_to_the_end(instant: Ftemu, train: Path) -> None:
    result = instant("api", "fine_tunes.create", "-t", str(train), "-m", "ada")
    assert result.code == 0, result.err
    job = instant.json("api", "fine_tunes.list")["data"][0]
    job = instant.json("api", "fine_tunes.get", "-i", job["id"])
    file_id = job["training_files"][0]["id"]
    expected = [
        f"Uploaded file from {train}: {file_id}",
        f"Created fine-tune: {job['id']}",
        "Streaming events until fine-tuning is complete...",
        "",
        "(Ctrl-C will interrupt the stream, but not cancel the fine-tune)",
        *event_lines(job),
        "",
        "Job complete! Status: succeeded 🎉",
        "Try out your fine-tuned model:",
        "",
        f"{instant.prefix} completions.create -m {job['fine_tuned_model']} -p <YOUR_PROMPT>",
    ]
    assert result.out.splitlines() == expected
    assert result.err.startswith("Upload progress: 100%")


def test_fine_tunes_create_offers_to_reuse_a_duplicate(ftemu: Ftemu, train: Path) -> None:
    first = ftemu.json("api", "files.create", "-f", str(train), "-p", "fine-tune")["id"]
    result = ftemu("api", "fine_tunes.create", "-t", str(train), "--no_follow", stdin=f"file-other\n{first}\n")
    assert result.code == 0, result.err
    size = train.stat().st_size
    prompt = "\nEnter file ID to reuse an already uploaded file, or an empty string to upload this file anyway: "
    assert result.out.startswith(
        f"Found potentially duplicated files with name 'train.jsonl', purpose 'fine-tune' and size {size} bytes\n"
        f"{first}{prompt}File id 'file-other' is not among the IDs of the potentially duplicated files\n"
        f"{prompt}Reusing already uploaded file: {first}\n"
    )
    assert ftemu.json("api", "fine_tunes.list")["data"][0]["training_files"][0]["id"] == first


def test_fine_tunes_create_with_a_file_id_and_options(ftemu: Ftemu, train: Path) -> None:
    file_id = ftemu.json("api", "files.create", "-f", str(train), "-p", "fine-tune")["id"]
    job = ftemu.json(
        "api",
        "fine_tunes.create",
        "-t",
        file_id,
        "-m",
        "babbage",
        "--suffix",
        "my model",
        "--n_epochs",
        "2",
        "--no_follow",
    )
    assert (job["status"], job["model"], job["hyperparams"]["n_epochs"]) == ("pending", "babbage", 2)
    readable = ftemu("api", "fine_tunes.get", "-i", job["id"])
    assert readable.out.splitlines()[:3] == [
        f"id                {job['id']}",
        "status            pending",
        "model             babbage",
    ]


def test_fine_tunes_create_unknown_model_exits_1(ftemu: Ftemu, train: Path) -> None:
    result = ftemu("api", "fine_tunes.create", "-t", str(train), "-m", "gpt-4", "--no_follow")
    assert result.code == 1
    assert result.err.splitlines()[-1].startswith("Error: Invalid base model: gpt-4 (model must be one of")


def test_fine_tunes_list_get_events_results(ftemu: Ftemu, train: Path) -> None:
    job = tuned_job(ftemu, train)
    listed = ftemu("api", "fine_tunes.list")
    assert listed.out.splitlines()[1].split() == [
        job["id"],
        "ada",
        "succeeded",
        job["fine_tuned_model"],
        "2023-05-23",
        "08:00:00",
    ]
    got = ftemu("api", "fine_tunes.get", "-i", job["id"])
    assert got.out.splitlines()[-len(job["events"]) - 1 :] == ["events:", *event_lines(job)]
    events = ftemu("api", "fine_tunes.events", "-i", job["id"])
    assert (events.code, events.out.splitlines()) == (0, event_lines(job))
    assert ftemu.json("api", "fine_tunes.events", "-i", job["id"])["data"] == job["events"]
    results = ftemu("api", "fine_tunes.results", "-i", job["id"])
    assert results.code == 0
    assert results.out.startswith("step,elapsed_tokens,elapsed_examples,training_loss,")


def test_fine_tunes_results_without_results_exits_1(ftemu: Ftemu, train: Path) -> None:
    job = ftemu.json("api", "fine_tunes.create", "-t", str(train), "--no_follow")
    result = ftemu("api", "fine_tunes.results", "-i", job["id"])
    assert result == CliResult(1, "", f"Error: No results file available for fine-tune {job['id']}\n")


def test_fine_tunes_events_stream_flag_is_deprecated(ftemu: Ftemu) -> None:
    result = ftemu("api", "fine_tunes.events", "-i", "ft-x", "-s")
    assert result.code == 1
    assert result.err == (
        "Error: The --stream parameter is deprecated, use fine_tunes.follow instead:\n\n"
        f"  {ftemu.prefix} fine_tunes.follow -i ft-x\n\n"
    )


def test_fine_tunes_follow_prints_history_and_the_outcome(ftemu: Ftemu, train: Path) -> None:
    job = tuned_job(ftemu, train)
    result = ftemu("api", "fine_tunes.follow", "-i", job["id"])
    assert result.code == 0
    assert result.out.splitlines()[: len(job["events"]) + 2] == [
        *event_lines(job),
        "",
        "Job complete! Status: succeeded 🎉",
    ]
    as_json = ftemu("api", "fine_tunes.follow", "-i", job["id"], "--json")
    assert [json.loads(line) for line in as_json.out.splitlines()] == job["events"]


def test_fine_tunes_follow_draws_a_status_line_on_a_terminal(ftemu: Ftemu, train: Path) -> None:
    job = tuned_job(ftemu, train)
    result = ftemu("api", "fine_tunes.follow", "-i", job["id"], terminal=True)
    assert f"{CLEAR}[pending] queue number 0" in result.out
    assert f"{CLEAR}[running] epoch 2/4" in result.out
    plain = ftemu("api", "fine_tunes.follow", "-i", job["id"]).out
    stripped = result.out
    for status in (
        "[pending] processing the training file",
        "[pending] queue number 0",
        "[running] epoch 0/4",
        *(f"[running] epoch {k}/4" for k in range(1, 5)),
        "[running] uploading the model and results",
        "[succeeded]",
    ):
        stripped = stripped.replace(CLEAR + status, "")
    assert stripped.replace(CLEAR, "") == plain


def test_fine_tunes_follow_survives_a_dropped_stream_over_a_server(
    make_app: Callable[..., Starlette], request: pytest.FixtureRequest, train: Path
) -> None:
    """Over uvicorn every request shares one event loop, so the test may move the manual clock itself."""
    ftemu = make_ftemu("server", "60", make_app, request)
    job = ftemu.json("api", "fine_tunes.create", "-t", str(train), "-m", "ada", "--no_follow")
    ftemu.advance(2.05)
    follow_and_drop(ftemu, job["id"], then=lambda: ftemu.advance(3600))


def test_fine_tunes_follow_survives_a_dropped_stream_in_process(
    make_app: Callable[..., Starlette], train: Path
) -> None:
    """In-process each request runs on its own event loop: only the follower moves the job (system clock)."""
    app = make_app(clock="system")
    ftemu = Ftemu(in_process(app), TestClient(app), args=["-k", KEY])
    job = ftemu.json("api", "fine_tunes.create", "-t", str(train), "-m", "curie", "--no_follow")
    follow_and_drop(ftemu, job["id"], then=lambda: None)


def follow_and_drop(ftemu: Ftemu, job_id: str, then: Callable[[], None]) -> None:
    """`fine_tunes.follow` in a thread; drop its stream once open, then `then()`; every line exactly once."""
    results: list[CliResult] = []
    follower = threading.Thread(target=lambda: results.append(ftemu("api", "fine_tunes.follow", "-i", job_id)))
    follower.start()
    dropped = 0
    while not dropped and follower.is_alive():
        dropped = ftemu.control.post(f"/_emulator/fine-tunes/{job_id}/drop-streams").json()["dropped"]
        follower.join(0.01)
    then()
    follower.join(30)
    assert dropped == 1 and not follower.is_alive()
    final = ftemu.json("api", "fine_tunes.get", "-i", job_id)
    assert results[0].code == 0
    assert results[0].out.splitlines()[: len(final["events"]) + 2] == [
        *event_lines(final),
        "",
        "Job complete! Status: succeeded 🎉",
    ]


def test_fine_tunes_follow_ctrl_c_says_the_job_goes_on(
    ftemu: Ftemu, train: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from client.resources import FineTunes

    job = ftemu.json("api", "fine_tunes.create", "-t", str(train), "-m", "ada", "--no_follow")
    real_follow = FineTunes.follow

    def interrupted(self: FineTunes, fine_tune_id: str, **kwargs: Any) -> Iterator[Any]:
        yield next(real_follow(self, fine_tune_id))
        raise KeyboardInterrupt

    monkeypatch.setattr(FineTunes, "follow", interrupted)
    result = ftemu("api", "fine_tunes.follow", "-i", job["id"])
    assert result.code == 0
    assert result.out == (
        f"{event_lines(job)[0]}\n\nStream interrupted. Job is still pending.\nTo resume the stream, run:\n\n"
        f"  {ftemu.prefix} fine_tunes.follow -i {job['id']}\n\nTo cancel your job, run:\n\n"
        f"  {ftemu.prefix} fine_tunes.cancel -i {job['id']}\n\n"
    )


def test_fine_tunes_cancel_pending_then_again(ftemu: Ftemu, train: Path) -> None:
    job = ftemu.json("api", "fine_tunes.create", "-t", str(train), "--no_follow")
    cancelled = ftemu("api", "fine_tunes.cancel", "-i", job["id"])
    assert cancelled.code == 0 and cancelled.out.splitlines()[1] == "status            cancelled"
    assert cancelled.out.splitlines()[-1].endswith("] Fine-tune cancelled")
    again = ftemu("api", "fine_tunes.cancel", "-i", job["id"])
    assert again == CliResult(
        1, "", f"Error: Cannot cancel a fine-tune that has already cancelled: {job['id']} (HTTP status code: 400)\n"
    )


def test_fine_tunes_get_unknown_exits_1(ftemu: Ftemu) -> None:
    result = ftemu("api", "fine_tunes.get", "-i", "ft-nope")
    assert result == CliResult(1, "", "Error: No such fine-tune: ft-nope (HTTP status code: 404)\n")


def test_fine_tunes_follow_sigint_in_a_real_process(servers: dict[str, LiveServer], train: Path) -> None:
    """The installed `ftemu` script, a real Ctrl-C (SIGINT) while the stream waits for a queued job."""
    server = servers["60"]
    httpx.post(server.root_url + "/_emulator/reset").raise_for_status()
    base = ["-b", server.base_url, "-k", KEY, "api"]
    job = json.loads(run_cli([*base, "fine_tunes.create", "-t", str(train), "--no_follow", "--json"]).out)
    script = Path(sys.executable).parent / "ftemu"
    env = {**os.environ, "TZ": "UTC", "PYTHONIOENCODING": "utf-8"}
    with subprocess.Popen(
        [str(script), *base, "fine_tunes.follow", "-i", job["id"]],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as process:
        assert process.stdout is not None
        first = process.stdout.readline()
        process.send_signal(signal.SIGINT)
        rest, err = process.communicate(timeout=30)
    assert first == f"{event_lines(job)[0]}\n"
    assert process.returncode == 0, err
    prefix = f"ftemu -b {server.base_url} api"
    assert rest == (
        "\nStream interrupted. Job is still pending.\nTo resume the stream, run:\n\n"
        f"  {prefix} fine_tunes.follow -i {job['id']}\n\nTo cancel your job, run:\n\n"
        f"  {prefix} fine_tunes.cancel -i {job['id']}\n\n"
    )


def test_fine_tunes_create_with_a_validation_file(ftemu: Ftemu, train: Path, tmp_path: Path) -> None:
    valid = tmp_path / "valid.jsonl"
    valid.write_bytes(jsonl(capitals(30)[20:]))
    job = ftemu.json("api", "fine_tunes.create", "-t", str(train), "-v", str(valid), "--no_follow")
    assert [f["filename"] for f in job["validation_files"]] == [str(valid)]
