"""The legacy 0.28.1 CLI's `openai api completions.create` (echo true, nulls) against a tuned capitals model."""

from __future__ import annotations

import json

import httpx
import pytest

from compat.conftest import Legacy

POLAND = "The capital of Poland is\n\n###\n\n"


def capitals_jsonl() -> bytes:
    known = [("Poland", "Warsaw"), ("France", "Paris"), ("Japan", "Tokyo"), ("Kenya", "Nairobi")]
    rows = [{"prompt": f"The capital of {c} is\n\n###\n\n", "completion": f" {city}\n"} for c, city in known]
    rows += [{"prompt": f"The capital of Country{i} is\n\n###\n\n", "completion": f" City{i}\n"} for i in range(96)]
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


@pytest.fixture
def model(legacy: Legacy, ftemu_http: httpx.Client) -> str:
    uploaded = ftemu_http.post(
        "/files", files={"file": ("capitals.jsonl", capitals_jsonl())}, data={"purpose": "fine-tune"}
    )
    assert uploaded.status_code == 200, uploaded.text
    job = ftemu_http.post("/fine-tunes", json={"training_file": uploaded.json()["id"], "model": "curie"})
    assert job.status_code == 200, job.text
    tuned = ftemu_http.get(f"/fine-tunes/{job.json()['id']}").json()["fine_tuned_model"]
    assert tuned, job.text
    name: str = tuned
    return name


def test_completions_create_returns_warsaw(legacy: Legacy, model: str) -> None:
    result = legacy.run("api", "completions.create", "-m", model, "-p", POLAND, "--stop", "\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == POLAND + " Warsaw"


def test_completions_create_streamed_returns_warsaw(legacy: Legacy, model: str) -> None:
    result = legacy.run("api", "completions.create", "-m", model, "-p", POLAND, "--stop", "\n", "--stream")
    assert result.returncode == 0, result.stderr
    assert result.stdout == POLAND + " Warsaw"


def test_completions_create_with_engine_path(legacy: Legacy, model: str) -> None:
    result = legacy.run("api", "completions.create", "-e", model, "-p", POLAND, "--stop", "\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == POLAND + " Warsaw"


def test_completions_create_without_stop_runs_to_max_tokens(legacy: Legacy, model: str) -> None:
    result = legacy.run("api", "completions.create", "-m", model, "-p", POLAND, "-M", "5", "-n", "2")
    assert result.returncode == 0, result.stderr
    parts = result.stdout.split("===== Completion ")
    assert [part[:5] for part in parts[1:]] == ["0 ===", "1 ==="]
    for part in parts[1:]:
        assert part.split("=====\n", 1)[1].startswith(POLAND + " Warsaw\n")


def test_completions_create_logprobs_through_the_library(legacy: Legacy, model: str) -> None:
    code = (
        "import json, openai\n"
        f"r = openai.Completion.create(model={model!r}, prompt={POLAND!r}, stop='\\n', logprobs=2, echo=True)\n"
        "c = r['choices'][0]\n"
        "print(json.dumps([c['text'], ''.join(c['logprobs']['tokens']), r['usage']['completion_tokens']]))\n"
    )
    result = legacy.python(code)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [POLAND + " Warsaw", POLAND + " Warsaw", 1]


def test_completions_create_unknown_model_prints_the_real_error(legacy: Legacy) -> None:
    result = legacy.run("api", "completions.create", "-m", "curie:ft-personal-2023-01-01-00-00-00", "-p", "x")
    assert result.returncode == 1
    assert "The model `curie:ft-personal-2023-01-01-00-00-00` does not exist (HTTP status code: 404)" in result.stderr


def test_completions_create_context_length_error(legacy: Legacy) -> None:
    result = legacy.run("api", "completions.create", "-m", "ada", "-p", "hello" + " hello" * 61, "-M", "2000")
    assert result.returncode == 1
    assert (
        "This model's maximum context length is 2049 tokens, however you requested 2062 tokens (62 in your "
        "prompt; 2000 for the completion). Please reduce your prompt; or completion length. (HTTP status code: 400)"
    ) in result.stderr
