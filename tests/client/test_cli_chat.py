"""`ftemu api chat.completions.create` as the 1.x openai CLI had it, and `Client.chat.completions.create`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import httpx
import pytest
from starlette.applications import Starlette

from client import Client
from client.testing import run_cli
from emulator.testing import LiveServer
from tests.client.cli_harness import Ftemu
from tests.conftest import KEY, fast_settings, in_process
from tests.emulator.v1.chat_support import FACTS, SYSTEM, add_tuned_model, marv_examples


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer(fast_settings()) as live:
        yield live


@pytest.fixture(params=["in-process", "server"])
def tuned(request: pytest.FixtureRequest, make_app: Callable[..., Starlette]) -> tuple[Ftemu, str]:
    """The CLI against an app that has a tuned chat model (its name is the second item)."""
    if request.param == "in-process":
        app = make_app()
        return Ftemu(in_process(app), in_process(app), args=["-k", KEY]), add_tuned_model(app, marv_examples())
    live: LiveServer = request.getfixturevalue("server")
    control = httpx.Client(base_url=live.root_url, timeout=30)
    control.post("/_emulator/reset").raise_for_status()
    model = add_tuned_model(live.app, marv_examples())
    return Ftemu(None, control, live.base_url, ["-b", live.base_url, "-k", KEY]), model


def test_chat_completions_create_prints_the_training_reply(tuned: tuple[Ftemu, str]) -> None:
    ftemu, model = tuned
    result = ftemu(
        "api", "chat.completions.create", "-g", "system", SYSTEM["content"], "-g", "user", FACTS[0][0], "-m", model
    )
    assert (result.code, result.out, result.err) == (0, FACTS[0][1] + "\n", "")


def test_chat_completions_create_stream_prints_the_deltas(tuned: tuple[Ftemu, str]) -> None:
    ftemu, model = tuned
    argv = ["api", "chat.completions.create", "-g", "system", SYSTEM["content"], "-g", "user", FACTS[1][0]]
    result = ftemu(*argv, "-m", model, "--stream")
    assert (result.code, result.out) == (0, FACTS[1][1] + "\n")


def test_chat_completions_create_n_prints_headers(tuned: tuple[Ftemu, str]) -> None:
    ftemu, _ = tuned
    result = ftemu("api", "chat.completions.create", "-g", "user", "Hi", "-m", "gpt-4o-mini", "-n", "2", "-M", "5")
    lines = result.out.splitlines()
    assert (
        result.code == 0 and lines[0] == "===== Chat Completion 0 =====" and lines[2] == "===== Chat Completion 1 ====="
    )
    assert len(lines) == 4


def test_chat_completions_create_options_reach_the_request(tuned: tuple[Ftemu, str]) -> None:
    ftemu, model = tuned
    argv = ["api", "chat.completions.create", "-g", "system", SYSTEM["content"], "-g", "user", FACTS[0][0]]
    body = ftemu.json(*argv, "-m", model, "-M", "3", "-t", "0", "-P", "0.5", "--stop", "xyz")
    assert body["choices"][0]["finish_reason"] == "length" and body["usage"]["completion_tokens"] == 3
    stopped = ftemu(*argv, "-m", model, "--stop", " as if")
    assert stopped.out == "Paris,\n"


def test_chat_completions_create_needs_a_message_and_a_model() -> None:
    result = run_cli(["-k", KEY, "api", "chat.completions.create", "-m", "gpt-4o"])
    assert result.code == 2 and "-g/--message" in result.err


def test_chat_completions_create_error_line(tuned: tuple[Ftemu, str]) -> None:
    ftemu, _ = tuned
    result = ftemu("api", "chat.completions.create", "-g", "user", "Hi", "-m", "davinci-002")
    assert result.code == 1 and result.out == ""
    assert result.err.endswith(
        "Error: This is not a chat model and thus not supported in the v1/chat/completions endpoint. "
        "Did you mean to use v1/completions? (HTTP status code: 404)\n"
    )


def test_client_chat_completions_create(make_app: Callable[..., Starlette]) -> None:
    app = make_app()
    model = add_tuned_model(app, marv_examples())
    client = Client(api_key=KEY, http=in_process(app))
    messages = [SYSTEM, {"role": "user", "content": FACTS[2][0]}]
    completion = client.chat.completions.create(model, messages)
    assert completion["choices"][0]["message"]["content"] == FACTS[2][1]
    chunks = list(client.chat.completions.create(model, messages, stream=True, stream_options={"include_usage": True}))
    text = "".join(chunk["choices"][0]["delta"].get("content") or "" for chunk in chunks if chunk["choices"])
    assert text == FACTS[2][1] and chunks[-1]["usage"] == completion["usage"]
    assert json.loads(json.dumps(completion))["object"] == "chat.completion"
