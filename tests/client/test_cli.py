"""Every `ftemu api` command, through the in-process app and through a live server: exit codes and outputs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
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


def _ftemu(mode: str, speed: str, make_app: Callable[..., FastAPI], request: pytest.FixtureRequest) -> Ftemu:
    if mode == "in-process":
        app = make_app(speed=speed)
        return Ftemu(in_process(app), TestClient(app), args=["-k", KEY])
    server = request.getfixturevalue("servers")[speed]
    control = httpx.Client(base_url=server.root_url, timeout=30)
    control.post("/_emulator/reset").raise_for_status()
    return Ftemu(None, control, server.base_url, ["-b", server.base_url, "-k", KEY])


@pytest.fixture(params=["in-process", "server"])
def ftemu(request: pytest.FixtureRequest, make_app: Callable[..., FastAPI]) -> Ftemu:
    """Manual clock at speed 60: jobs wait until the test moves the clock."""
    return _ftemu(request.param, "60", make_app, request)


@pytest.fixture(params=["in-process", "server"])
def instant(request: pytest.FixtureRequest, make_app: Callable[..., FastAPI]) -> Ftemu:
    """Jobs finish the moment they are created."""
    return _ftemu(request.param, "instant", make_app, request)


@pytest.fixture
def train(tmp_path: Path) -> Path:
    path = tmp_path / "train.jsonl"
    path.write_bytes(jsonl(capitals(20)))
    return path


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


# files ----------------------------------------------------------------------------------------------------------


def test_files_create_prints_the_file_and_a_progress_bar(ftemu: Ftemu, train: Path) -> None:
    result = ftemu("api", "files.create", "-f", str(train), "-p", "fine-tune")
    assert result.code == 0
    size = train.stat().st_size
    assert result.err == f"Upload progress: 100%|██████████| {size / 1000:.1f}k/{size / 1000:.1f}k\n"
    header, row = result.out.splitlines()
    assert header.split() == ["ID", "PURPOSE", "FILENAME", "BYTES", "CREATED", "STATUS"]
    assert row.split()[1:] == ["fine-tune", str(train), str(size), "2023-05-23", "08:00:00", "uploaded"]


def test_files_create_json_prints_the_raw_object(ftemu: Ftemu, train: Path) -> None:
    body = ftemu.json("api", "files.create", "-f", str(train), "-p", "fine-tune")
    assert list(body) == ["object", "id", "purpose", "filename", "bytes", "created_at", "status", "status_details"]
    assert body["filename"] == str(train)


def test_files_create_bad_purpose_exits_1(ftemu: Ftemu, train: Path) -> None:
    result = ftemu("api", "files.create", "-f", str(train), "-p", "search")
    assert (result.code, result.out) == (1, "")
    assert result.err.endswith("Error: 'search' is not one of ['fine-tune'] - 'purpose' (HTTP status code: 400)\n")


def test_files_list_get_delete(ftemu: Ftemu, train: Path) -> None:
    file_id = ftemu.json("api", "files.create", "-f", str(train), "-p", "fine-tune")["id"]
    listed = ftemu("api", "files.list")
    assert listed.code == 0 and file_id in listed.out.splitlines()[1]
    assert ftemu.json("api", "files.list")["data"][0]["id"] == file_id
    got = ftemu("api", "files.get", "-i", file_id)
    assert got.code == 0 and got.out.splitlines()[1].startswith(file_id)
    deleted = ftemu("api", "files.delete", "-i", file_id)
    assert (deleted.code, deleted.out) == (0, f"Deleted file {file_id}\n")
    assert ftemu("api", "files.list").out == "(none)\n"


def test_files_get_unknown_prints_the_error_line(ftemu: Ftemu) -> None:
    result = ftemu("api", "files.get", "-i", "file-nope")
    assert result == CliResult(1, "", "Error: No such File object: file-nope (HTTP status code: 404)\n")


# fine-tunes -----------------------------------------------------------------------------------------------------


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
    make_app: Callable[..., FastAPI], request: pytest.FixtureRequest, train: Path
) -> None:
    """Over uvicorn every request shares one event loop, so the test may move the manual clock itself."""
    ftemu = _ftemu("server", "60", make_app, request)
    job = ftemu.json("api", "fine_tunes.create", "-t", str(train), "-m", "ada", "--no_follow")
    ftemu.advance(2.05)
    follow_and_drop(ftemu, job["id"], then=lambda: ftemu.advance(3600))


def test_fine_tunes_follow_survives_a_dropped_stream_in_process(make_app: Callable[..., FastAPI], train: Path) -> None:
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


# models and completions -----------------------------------------------------------------------------------------


def test_models_list_get_delete(ftemu: Ftemu, train: Path) -> None:
    model = tuned_job(ftemu, train)["fine_tuned_model"]
    listed = ftemu("api", "models.list")
    assert [line.split()[0] for line in listed.out.splitlines()] == ["ID", "ada", "babbage", "curie", "davinci", model]
    got = ftemu("api", "models.get", "-i", model)
    assert got.out.splitlines()[0] == f"id        {model}" and got.out.splitlines()[3:] == [
        "root      ada",
        "parent    ada",
    ]
    assert ftemu.json("api", "models.get", "-i", "curie")["owned_by"] == "openai"
    assert ftemu("api", "models.delete", "-i", model) == CliResult(0, f"Deleted model {model}\n", "")
    missing = ftemu("api", "models.get", "-i", model)
    assert missing == CliResult(1, "", f"Error: The model '{model}' does not exist (HTTP status code: 404)\n")


def test_models_delete_base_model_exits_1(ftemu: Ftemu) -> None:
    result = ftemu("api", "models.delete", "-i", "ada")
    assert result.code == 1 and result.err.endswith("(HTTP status code: 403)\n")


def test_completions_create_prints_prompt_and_completion(ftemu: Ftemu, train: Path) -> None:
    model = tuned_job(ftemu, train)["fine_tuned_model"]
    result = ftemu("api", "completions.create", "-m", model, "-p", PROMPT, "-M", "2", "-t", "0")
    assert result.code == 0 and result.out.startswith(PROMPT + " Paris")
    streamed = ftemu("api", "completions.create", "-m", model, "-p", PROMPT, "-M", "2", "-t", "0", "--stream")
    assert streamed == result
    raw = ftemu.json("api", "completions.create", "-m", model, "-p", PROMPT, "-M", "2", "-t", "0")
    text = raw["choices"][0]["text"]
    assert raw["object"] == "text_completion" and result.out == (text if text.endswith("\n") else text + "\n")


def test_completions_create_several_choices_are_numbered(ftemu: Ftemu, train: Path) -> None:
    model = tuned_job(ftemu, train)["fine_tuned_model"]
    result = ftemu("api", "completions.create", "-m", model, "-p", PROMPT, "-M", "2", "-n", "2")
    assert result.code == 0
    assert result.out.startswith("===== Completion 0 =====\n" + PROMPT)
    assert "\n===== Completion 1 =====\n" in result.out


def test_completions_create_stream_with_n_is_a_usage_error(ftemu: Ftemu) -> None:
    result = ftemu("api", "completions.create", "-m", "ada", "-p", "x", "-n", "2", "--stream")
    assert result == CliResult(2, "", "ftemu: Can't stream completions with n>1 with the current CLI\n")


def test_completions_create_unknown_model_exits_1(ftemu: Ftemu) -> None:
    result = ftemu("api", "completions.create", "-m", "nope", "-p", "x")
    assert result.code == 1 and result.err.endswith("(HTTP status code: 404)\n")


# usage, auth and delegation -------------------------------------------------------------------------------------


def test_usage_missing_id_exits_2(ftemu: Ftemu) -> None:
    result = ftemu("api", "fine_tunes.get")
    assert result.code == 2 and "the following arguments are required: -i/--id" in result.err


def test_usage_unknown_command_exits_2(ftemu: Ftemu) -> None:
    result = ftemu("api", "fine_tunes.explode")
    assert result.code == 2 and "invalid choice: 'fine_tunes.explode'" in result.err


def test_api_without_a_key_exits_1(servers: dict[str, LiveServer]) -> None:
    result = run_cli(["-b", servers["60"].base_url, "api", "models.list"])
    assert result.code == 1
    assert result.err.startswith("Error: You didn't provide an API key.")
    assert result.err.endswith("(HTTP status code: 401)\n")


def test_api_base_from_the_environment(servers: dict[str, LiveServer], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_BASE", servers["60"].base_url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    result = run_cli(["api", "models.get", "-i", "ada"])
    assert result.code == 0 and result.out.splitlines()[0] == "id        ada"


def test_tools_prepare_data_gets_the_rest_of_the_arguments() -> None:
    result = run_cli(["tools", "fine_tunes.prepare_data", "-h"])
    assert result.code == 0 and "-f FILE" in result.out


def test_conformance_gets_the_rest_of_the_arguments() -> None:
    result = run_cli(["conformance", "--help"])
    assert result.code == 0 and result.out.startswith("usage:")


def test_serve_help_still_lists_the_settings() -> None:
    result = run_cli(["serve", "--help"])
    assert result.code == 0 and "--clock KIND" in result.out


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


def test_organization_option_is_sent(ftemu: Ftemu) -> None:
    result = ftemu("-o", "org-somebody-else", "api", "models.list")
    assert result == CliResult(
        1, "", "Error: OpenAI-Organization header should match organization for API key (HTTP status code: 401)\n"
    )


def test_api_without_a_command_prints_its_commands() -> None:
    result = run_cli(["api"])
    assert result.code == 0 and "fine_tunes.follow" in result.out and result.out.startswith("usage: ftemu api")


def test_files_create_missing_local_file_exits_1(ftemu: Ftemu, tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    result = ftemu("api", "files.create", "-f", str(missing), "-p", "fine-tune")
    assert result == CliResult(1, "", f"Error: [Errno 2] No such file or directory: '{missing}'\n")


def test_fine_tunes_create_with_a_validation_file(ftemu: Ftemu, train: Path, tmp_path: Path) -> None:
    valid = tmp_path / "valid.jsonl"
    valid.write_bytes(jsonl(capitals(30)[20:]))
    job = ftemu.json("api", "fine_tunes.create", "-t", str(train), "-v", str(valid), "--no_follow")
    assert [f["filename"] for f in job["validation_files"]] == [str(valid)]


def test_completions_create_with_an_engine(ftemu: Ftemu, train: Path) -> None:
    model = tuned_job(ftemu, train)["fine_tuned_model"]
    result = ftemu("api", "completions.create", "-e", model, "-p", PROMPT, "-M", "2", "-t", "0")
    assert result.code == 0 and result.out.startswith(PROMPT + " Paris")
