"""The legacy `openai` 0.28.1 CLI, unmodified, runs the seed's file, model and fine-tune commands (instant speed)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx

from compat.conftest import Legacy
from emulator.core.catalogue import BASE_MODELS, MODERN_MODELS


def write_training(tmp_path: Path, rows: int = 100, name: str = "train.jsonl") -> Path:
    path = tmp_path / name
    lines = [
        json.dumps({"prompt": f"The capital of Country{i} is\n\n###\n\n", "completion": f" City{i}\n"})
        for i in range(rows)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def ok(result: object) -> str:
    assert getattr(result, "returncode", 1) == 0, f"{getattr(result, 'stdout', '')}\n{getattr(result, 'stderr', '')}"
    return str(getattr(result, "stdout", ""))


def test_files_commands(legacy: Legacy, tmp_path: Path) -> None:
    path = write_training(tmp_path)
    created = json.loads(ok(legacy.run("api", "files.create", "-f", str(path), "-p", "fine-tune")))
    assert (created["object"], created["filename"], created["bytes"]) == (
        "file",
        str(path),
        path.stat().st_size,
    )
    listed = json.loads(ok(legacy.run("api", "files.list")))
    assert [f["id"] for f in listed["data"]] == [created["id"]]
    got = json.loads(ok(legacy.run("api", "files.get", "-i", created["id"])))
    assert (got["id"], got["status"]) == (created["id"], "processed")
    deleted = json.loads(ok(legacy.run("api", "files.delete", "-i", created["id"])))
    assert deleted == {"object": "file", "id": created["id"], "deleted": True}
    missing = legacy.run("api", "files.get", "-i", created["id"])
    assert missing.returncode == 1
    assert f"No such File object: {created['id']} (HTTP status code: 404)" in missing.stderr
    assert "[organization=personal]" in missing.stderr
    probe = legacy.run("api", "files.get", "-i", "data/train.jsonl")
    assert probe.returncode == 1
    assert "No such File object: data/train.jsonl (HTTP status code: 404)" in probe.stderr


def test_files_create_bad_file_prints_the_real_error(legacy: Legacy, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    result = legacy.run("api", "files.create", "-f", str(bad), "-p", "fine-tune")
    assert result.returncode == 1
    assert ('Line 1 is not a dictionary (HINT: line starts with: "not..."). (HTTP status code: 400)') in result.stderr


def test_models_commands(legacy: Legacy) -> None:
    models = json.loads(ok(legacy.run("api", "models.list")))
    assert [m["id"] for m in models["data"]] == [*BASE_MODELS, *MODERN_MODELS]
    curie = json.loads(ok(legacy.run("api", "models.get", "-i", "curie")))
    assert list(curie) == ["id", "object", "created", "owned_by", "permission", "root", "parent"]


def test_auth_errors_through_the_cli(legacy: Legacy) -> None:
    result = legacy.run("api", "models.list", OPENAI_API_KEY="")
    assert result.returncode == 1
    assert "You didn't provide an API key" in result.stderr or "No API key provided" in result.stderr


def test_fine_tunes_create_follows_to_success(legacy: Legacy, tmp_path: Path) -> None:
    path = write_training(tmp_path)
    out = ok(legacy.run("api", "fine_tunes.create", "-t", str(path), "-m", "curie"))
    lines = out.splitlines()
    assert re.fullmatch(rf"Uploaded file from {re.escape(str(path))}: file-\w{{24}}", lines[0])
    assert re.fullmatch(r"Created fine-tune: ft-\w{24}", lines[1])
    assert lines[2:5] == [
        "Streaming events until fine-tuning is complete...",
        "",
        "(Ctrl-C will interrupt the stream, but not cancel the fine-tune)",
    ]
    events = [line for line in lines if line.startswith("[")]
    assert [re.sub(r"^\[[\d\- :]+\] ", "", line) for line in events][2:8] == [
        "Fine-tune enqueued. Queue number: 0",
        "Fine-tune started",
        "Completed epoch 1/4",
        "Completed epoch 2/4",
        "Completed epoch 3/4",
        "Completed epoch 4/4",
    ]
    assert events[-1].endswith("] Fine-tune succeeded")
    model = re.search(r"Uploaded model: (\S+)", out).group(1)  # type: ignore[union-attr]
    assert "Job complete! Status: succeeded 🎉" in out
    assert f"openai api completions.create -m {model} -p <YOUR_PROMPT>" in out


def test_fine_tunes_create_duplicate_prompt_reuses_the_file(legacy: Legacy, tmp_path: Path) -> None:
    path = write_training(tmp_path)
    first = ok(legacy.run("api", "fine_tunes.create", "-t", str(path), "-m", "ada", "--no_follow"))
    file_id = json.loads(first[first.index("{") :])["training_files"][0]["id"]
    again = legacy.run("api", "fine_tunes.create", "-t", str(path), "-m", "ada", "--no_follow", input=file_id + "\n")
    out = ok(again)
    assert (
        f"Found potentially duplicated files with name '{path.name}', purpose 'fine-tune' and size "
        f"{path.stat().st_size} bytes\n{file_id}"
    ) in out
    assert f"Reusing already uploaded file: {file_id}" in out
    upload_anyway = ok(legacy.run("api", "fine_tunes.create", "-t", str(path), "-m", "ada", "--no_follow", input="\n"))
    assert "Uploaded file from" in upload_anyway
    skip_check = ok(
        legacy.run(
            "api",
            "fine_tunes.create",
            "-t",
            str(path),
            "-m",
            "ada",
            "--no_follow",
            "--no_check_if_files_exist",
        )
    )
    assert "Found potentially duplicated" not in skip_check and "Uploaded file from" in skip_check


def test_fine_tunes_manage_commands(legacy: Legacy, tmp_path: Path, ftemu_http: httpx.Client) -> None:
    path = write_training(tmp_path)
    out = ok(
        legacy.run(
            "api",
            "fine_tunes.create",
            "-t",
            str(path),
            "-m",
            "ada",
            "--no_follow",
            "--no_check_if_files_exist",
        )
    )
    job = json.loads(out[out.index("{") :])
    listed = json.loads(ok(legacy.run("api", "fine_tunes.list")))
    assert [j["id"] for j in listed["data"]] == [job["id"]]
    got = json.loads(ok(legacy.run("api", "fine_tunes.get", "-i", job["id"])))
    assert got["status"] == "succeeded"
    events = json.loads(ok(legacy.run("api", "fine_tunes.events", "-i", job["id"])))
    assert events["data"][-1]["message"] == "Fine-tune succeeded"
    follow = ok(legacy.run("api", "fine_tunes.follow", "-i", job["id"]))
    assert follow.count("] ") == len(events["data"]) and "Job complete! Status: succeeded 🎉" in follow
    results = ok(legacy.run("api", "fine_tunes.results", "-i", job["id"]))
    assert results.startswith("step,elapsed_tokens,elapsed_examples,training_loss")
    cancel = legacy.run("api", "fine_tunes.cancel", "-i", job["id"])
    assert cancel.returncode == 1
    assert f"Cannot cancel a fine-tune that has already succeeded: {job['id']} (HTTP status code: 400)" in (
        cancel.stderr
    )
    unknown = legacy.run("api", "fine_tunes.get", "-i", "ft-nope")
    assert "No such fine-tune: ft-nope (HTTP status code: 404)" in unknown.stderr


def test_fine_tunes_retrain_and_delete_model(legacy: Legacy, tmp_path: Path) -> None:
    path = write_training(tmp_path)
    first = ok(
        legacy.run(
            "api",
            "fine_tunes.create",
            "-t",
            str(path),
            "-m",
            "curie",
            "--no_follow",
            "--no_check_if_files_exist",
        )
    )
    model = json.loads(first[first.index("{") :])["fine_tuned_model"]
    more = write_training(tmp_path, rows=30, name="more.jsonl")
    second = ok(legacy.run("api", "fine_tunes.create", "-t", str(more), "-m", model, "--suffix", "more data"))
    retrained = re.search(r"Uploaded model: (\S+)", second).group(1)  # type: ignore[union-attr]
    assert re.fullmatch(r"curie:ft-personal:more-data-\d{4}(-\d\d){5}", retrained)
    deleted = json.loads(ok(legacy.run("api", "models.delete", "-i", retrained)))
    assert deleted == {"id": retrained, "object": "model", "deleted": True}
    gone = legacy.run("api", "models.get", "-i", retrained)
    assert f"The model '{retrained}' does not exist (HTTP status code: 404)" in gone.stderr
