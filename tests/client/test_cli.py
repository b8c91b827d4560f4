"""`ftemu api` files, models and completions commands, usage errors, global options and delegation."""

from __future__ import annotations

from pathlib import Path

import pytest

from client.testing import CliResult, run_cli
from emulator.core.catalogue import BASE_MODELS, MODERN_MODELS
from emulator.testing import LiveServer
from tests.client.cli_harness import PROMPT, Ftemu, tuned_job
from tests.conftest import KEY


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
    assert result.err.endswith(
        "Error: 'search' is not one of ['assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals']"
        " - 'purpose' (HTTP status code: 400)\n"
    )


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


def test_models_list_get_delete(ftemu: Ftemu, train: Path) -> None:
    model = tuned_job(ftemu, train)["fine_tuned_model"]
    listed = ftemu("api", "models.list")
    assert [line.split()[0] for line in listed.out.splitlines()] == ["ID", *BASE_MODELS, *MODERN_MODELS, model]
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


def test_completions_create_with_an_engine(ftemu: Ftemu, train: Path) -> None:
    model = tuned_job(ftemu, train)["fine_tuned_model"]
    result = ftemu("api", "completions.create", "-e", model, "-p", PROMPT, "-M", "2", "-t", "0")
    assert result.code == 0 and result.out.startswith(PROMPT + " Paris")
