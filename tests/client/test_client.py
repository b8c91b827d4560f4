"""The client library against the app: every namespace, in-process and over a socket, plus its error tree."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from client import Client, NotFoundError, PermissionDeniedError
from client._http import resolve_base_url
from emulator.testing import LiveServer
from tests.conftest import KEY, capitals, fast_settings, in_process, jsonl

PROMPT = "The capital of France is\n\n###\n\n"


@pytest.fixture(params=["in-process", "server"])
def sdk(request: pytest.FixtureRequest, make_app: Callable[..., Starlette]) -> Iterator[Client]:
    """A Client on an instant-training app: in-process over the TestClient, or over a live socket."""
    if request.param == "in-process":
        with Client(api_key=KEY, http=in_process(make_app(speed="instant"), headers={})) as client:
            yield client
        return
    with LiveServer(fast_settings(speed="instant")) as server, Client(server.base_url, KEY) as client:
        yield client


def tuned(sdk: Client) -> dict[str, Any]:
    uploaded = sdk.files.create(jsonl(capitals(20)), filename="train.jsonl")
    job = sdk.fine_tunes.create(uploaded["id"], model="ada", suffix="capitals")
    return dict(sdk.fine_tunes.wait(job["id"]))


def test_create_file_uploads_with_progress(sdk: Client) -> None:
    seen: list[tuple[int, int]] = []
    data = jsonl(capitals(10))
    created = sdk.files.create(
        data, filename="data/train.jsonl", progress=lambda sent, total: seen.append((sent, total))
    )
    assert (created["object"], created["filename"], created["bytes"]) == ("file", "data/train.jsonl", len(data))
    assert seen[-1] == (len(data), len(data))
    assert sdk.files.retrieve(created["id"])["id"] == created["id"]
    assert [f["id"] for f in sdk.files.list()["data"]] == [created["id"]]
    assert sdk.files.content(created["id"]) == data
    assert sdk.files.delete(created["id"]) == {"object": "file", "id": created["id"], "deleted": True}


def test_retrieve_file_unknown_raises_not_found(sdk: Client) -> None:
    with pytest.raises(NotFoundError) as caught:
        sdk.files.retrieve("file-nope")
    error = caught.value
    assert (error.status, error.message, error.type, error.param, error.code) == (
        404,
        "No such File object: file-nope",
        "invalid_request_error",
        "id",
        None,
    )
    assert error.line() == "Error: No such File object: file-nope (HTTP status code: 404)"


def test_wait_fine_tune_returns_the_succeeded_job(sdk: Client) -> None:
    job = tuned(sdk)
    assert job["status"] == "succeeded" and job["fine_tuned_model"].startswith("ada:ft-personal:capitals-")
    assert [e["message"] for e in sdk.fine_tunes.follow(job["id"])] == [e["message"] for e in job["events"]]
    assert sdk.fine_tunes.list_events(job["id"])["data"] == job["events"]
    assert [j["id"] for j in sdk.fine_tunes.list()["data"]] == [job["id"]]


def test_retrieve_model_tuned_name_with_colons(sdk: Client) -> None:
    name = tuned(sdk)["fine_tuned_model"]
    assert sdk.models.retrieve(name)["id"] == name
    assert name in [m["id"] for m in sdk.models.list()["data"]]
    assert sdk.models.delete(name) == {"id": name, "object": "model", "deleted": True}
    with pytest.raises(NotFoundError, match="does not exist"):
        sdk.models.retrieve(name)


def test_delete_model_base_raises_permission_denied(sdk: Client) -> None:
    with pytest.raises(PermissionDeniedError) as caught:
        sdk.models.delete("ada")
    assert caught.value.status == 403 and caught.value.param == "model"


def test_cancel_fine_tune_finished_raises_bad_request(sdk: Client) -> None:
    job = tuned(sdk)
    with pytest.raises(Exception) as caught:
        sdk.fine_tunes.cancel(job["id"])
    assert type(caught.value).__name__ == "BadRequestError"


def test_create_completion_answers_a_training_prompt(sdk: Client) -> None:
    model = tuned(sdk)["fine_tuned_model"]
    completion = sdk.completions.create(model, PROMPT, max_tokens=5, temperature=0)
    assert completion["object"] == "text_completion" and completion["model"] == model
    assert completion["choices"][0]["text"].startswith(" Paris")


def test_create_completion_stream_yields_chunks_that_add_up(sdk: Client) -> None:
    model = tuned(sdk)["fine_tuned_model"]
    whole = sdk.completions.create(model, PROMPT, max_tokens=5, temperature=0)["choices"][0]["text"]
    chunks = list(sdk.completions.create(model, PROMPT, max_tokens=5, temperature=0, stream=True))
    assert len(chunks) > 1 and all(chunk["object"] == "text_completion" for chunk in chunks)
    assert "".join(chunk["choices"][0]["text"] for chunk in chunks) == whole


def test_create_completion_unknown_model_raises_before_streaming(sdk: Client) -> None:
    with pytest.raises(NotFoundError) as caught:
        sdk.completions.create("ada:ft-nobody-2023-01-01-00-00-00", "Hi", stream=True)
    assert caught.value.code == "model_not_found"


def test_client_base_url_from_environment_in_order() -> None:
    env = {"OPENAI_BASE_URL": "http://c/v1", "OPENAI_API_BASE": "http://b/v1/"}
    assert resolve_base_url(None, None, env) == "http://b/v1"
    assert resolve_base_url(None, None, {**env, "FTEMU_API_BASE": "http://a/v1"}) == "http://a/v1"
    assert resolve_base_url("http://x/v1", None, env) == "http://x/v1"
    assert resolve_base_url(None, None, {}) == "https://api.openai.com/v1"


def test_client_sends_key_organization_and_quoted_ids() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": "curie:ft-x", "object": "model"})

    environ = {"OPENAI_API_KEY": "sk-env", "OPENAI_ORGANIZATION": "org-env", "OPENAI_API_BASE": "http://h/v1"}
    client = Client(http=httpx.Client(transport=httpx.MockTransport(answer)), environ=environ)
    client.models.retrieve("curie:ft-x")
    request = seen[0]
    assert str(request.url) == "http://h/v1/models/curie%3Aft-x"
    assert request.headers["authorization"] == "Bearer sk-env"
    assert request.headers["openai-organization"] == "org-env"


def test_create_fine_tune_sends_only_given_fields(app: Starlette) -> None:
    bodies: list[Any] = []
    http = in_process(app)
    http.event_hooks["request"].append(lambda request: bodies.append(request.read()))
    client = Client(http=http)
    file_id = client.files.create(jsonl(capitals(10)), filename="t.jsonl")["id"]
    client.fine_tunes.create(file_id, model="ada", n_epochs=2)
    assert json.loads(bodies[-1]) == {"training_file": file_id, "model": "ada", "n_epochs": 2}


def test_follow_fine_tune_in_process_uses_the_test_client(app: Starlette) -> None:
    client = Client(http=TestClient(app, base_url="http://testserver/v1", headers={"Authorization": f"Bearer {KEY}"}))
    file_id = client.files.create(jsonl(capitals(10)), filename="t.jsonl")["id"]
    job = client.fine_tunes.create(file_id, model="ada")
    TestClient(app).post("/_emulator/clock/advance", json={"seconds": 3600})
    messages = [event["message"] for event in client.fine_tunes.follow(job["id"])]
    assert messages[0] == f"Created fine-tune: {job['id']}" and messages[-1] == "Fine-tune succeeded"


def test_library_example_in_the_docs_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text(encoding="utf-8")
    code = text.split("```python\n", 1)[1].split("```", 1)[0]
    (tmp_path / "train.jsonl").write_bytes(jsonl(capitals(20)))
    monkeypatch.chdir(tmp_path)
    with LiveServer(fast_settings(speed="instant")) as server:
        monkeypatch.setenv("OPENAI_API_BASE", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.delenv("FTEMU_API_BASE", raising=False)
        exec(compile(code, "docs/cli.md", "exec"), {})
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("Created fine-tune: ft-")
    assert out.endswith("404 model_not_found The model 'ada:ft-nobody-2023-01-01-00-00-00' does not exist\n")
