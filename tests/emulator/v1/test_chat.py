"""POST /v1/chat/completions over HTTP, in-process and over a socket: answers, usage, streams, tools, JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import jsonschema
import pytest
from starlette.applications import Starlette

from emulator.core.tokens import o200k_base
from emulator.testing import LiveServer
from tests.conftest import AUTH, in_process
from tests.emulator.core.test_tokens_modern import COOKBOOK_MESSAGES, chat_tokens
from tests.emulator.v1.chat_support import (
    FACTS,
    WEATHER_TOOL,
    add_tuned_model,
    conversation,
    marv_examples,
    weather_examples,
)


@pytest.fixture(params=["in-process", "server"])
def target(
    request: pytest.FixtureRequest, make_app: Callable[..., Starlette]
) -> Iterator[tuple[httpx.Client, Starlette]]:
    """An HTTP client and the app behind it (to add tuned models), in-process and over uvicorn."""
    if request.param == "in-process":
        app = make_app()
        yield in_process(app), app
        return
    server: LiveServer = request.getfixturevalue("live_server")
    with httpx.Client(base_url=server.base_url, headers=AUTH, timeout=30) as http:
        http.post(server.root_url + "/_emulator/reset").raise_for_status()
        yield http, server.app


def chat(http: httpx.Client, **body: Any) -> dict[str, Any]:
    response = http.post("/chat/completions", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def content(result: dict[str, Any], index: int = 0) -> str:
    text: str = result["choices"][index]["message"]["content"]
    return text


def events(http: httpx.Client, **body: Any) -> list[Any]:
    response = http.post("/chat/completions", json={**body, "stream": True})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    blocks = [block for block in response.text.split("\n\n") if block]
    assert all(block.startswith("data: ") for block in blocks)
    return [block[6:] if block == "data: [DONE]" else json.loads(block[6:]) for block in blocks]


def test_create_chat_completion_tuned_model_returns_training_reply(target: tuple[httpx.Client, Starlette]) -> None:
    http, app = target
    model = add_tuned_model(app, marv_examples())
    result = chat(http, model=model, messages=conversation(FACTS[0][0]))
    assert list(result) == ["id", "object", "created", "model", "choices", "usage", "service_tier"]
    assert result["id"].startswith("chatcmpl-") and len(result["id"]) == 38
    assert result["object"] == "chat.completion" and result["model"] == model
    assert result["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": FACTS[0][1], "refusal": None, "annotations": []},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ]
    enc = o200k_base()
    prompt = chat_tokens(enc, conversation(FACTS[0][0]))
    completion = len(enc.encode(FACTS[0][1]))
    assert result["usage"] == {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def test_create_chat_completion_usage_is_the_cookbook_count(target: tuple[httpx.Client, Starlette]) -> None:
    http, _ = target
    assert chat(http, model="gpt-4o-mini", messages=COOKBOOK_MESSAGES)["usage"]["prompt_tokens"] == 124
    assert chat(http, model="gpt-3.5-turbo", messages=COOKBOOK_MESSAGES)["usage"]["prompt_tokens"] == 129
    assert chat(http, model="gpt-4-0613", messages=COOKBOOK_MESSAGES)["usage"]["prompt_tokens"] == 129


def test_create_chat_completion_base_model_echoes_its_snapshot(target: tuple[httpx.Client, Starlette]) -> None:
    http, _ = target
    result = chat(http, model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello"}])
    assert result["model"] == "gpt-4o-mini-2024-07-18"
    assert content(result) and result["choices"][0]["finish_reason"] == "stop"


def test_create_chat_completion_n_3_gives_three_different_base_answers(target: tuple[httpx.Client, Starlette]) -> None:
    http, _ = target
    result = chat(http, model="gpt-4.1-mini", n=3, messages=[{"role": "user", "content": "Tell me something"}])
    assert [choice["index"] for choice in result["choices"]] == [0, 1, 2]
    assert len({content(result, i) for i in range(3)}) == 3
    assert result["usage"]["completion_tokens"] == sum(len(o200k_base().encode(content(result, i))) for i in range(3))


def test_create_chat_completion_temperature_0_choices_agree(target: tuple[httpx.Client, Starlette]) -> None:
    http, _ = target
    result = chat(http, model="gpt-4o", n=2, temperature=0, messages=[{"role": "user", "content": "Hi"}])
    assert content(result, 0) == content(result, 1)


def test_create_chat_completion_same_seed_same_answer(target: tuple[httpx.Client, Starlette]) -> None:
    http, _ = target
    body = {"model": "gpt-4o", "seed": 42, "messages": [{"role": "user", "content": "Hi"}]}
    first, second = chat(http, **body), chat(http, **body)
    assert content(first) == content(second) and first["id"] != second["id"]
    assert content(chat(http, **{**body, "seed": 43})) != content(first)


def test_create_chat_completion_nearest_conversation_answers_unseen_one(target: tuple[httpx.Client, Starlette]) -> None:
    http, app = target
    model = add_tuned_model(app, marv_examples())
    answers = {
        content(chat(http, model=model, seed=seed, messages=conversation("What's the capital of France??")))
        for seed in range(10)
    }
    assert FACTS[0][1] in answers  # gpt-4o-mini answers from the nearest conversation with probability 0.9


def test_create_chat_completion_max_completion_tokens_cuts_with_length(target: tuple[httpx.Client, Starlette]) -> None:
    http, app = target
    model = add_tuned_model(app, marv_examples())
    result = chat(http, model=model, max_completion_tokens=3, messages=conversation(FACTS[0][0]))
    assert content(result) == o200k_base().decode(o200k_base().encode(FACTS[0][1])[:3])
    assert result["choices"][0]["finish_reason"] == "length"
    assert result["usage"]["completion_tokens"] == 3
    legacy = chat(http, model=model, max_tokens=3, messages=conversation(FACTS[0][0]))
    assert content(legacy) == content(result)


def test_create_chat_completion_stop_cuts_before_the_sequence(target: tuple[httpx.Client, Starlette]) -> None:
    http, app = target
    model = add_tuned_model(app, marv_examples())
    result = chat(http, model=model, stop=[" as if", "xyz"], messages=conversation(FACTS[0][0]))
    assert content(result) == "Paris,"
    assert result["choices"][0]["finish_reason"] == "stop"


def test_create_chat_completion_stream_with_usage(target: tuple[httpx.Client, Starlette]) -> None:
    http, app = target
    model = add_tuned_model(app, marv_examples())
    body = {"model": model, "messages": conversation(FACTS[1][0]), "stream_options": {"include_usage": True}}
    chunks = events(http, **body)
    assert chunks[-1] == "[DONE]"
    chunks = chunks[:-1]
    assert {chunk["id"] for chunk in chunks} == {chunks[0]["id"]} and chunks[0]["id"].startswith("chatcmpl-")
    assert all(chunk["object"] == "chat.completion.chunk" and chunk["model"] == model for chunk in chunks)
    assert list(chunks[0]) == [
        "id",
        "object",
        "created",
        "model",
        "service_tier",
        "choices",
        "usage",
    ]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": "", "refusal": None}
    middle = chunks[1:-2]
    assert "".join(chunk["choices"][0]["delta"]["content"] for chunk in middle) == FACTS[1][1]
    assert chunks[-2]["choices"] == [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]
    assert all(chunk["usage"] is None for chunk in chunks[:-1])
    assert (
        chunks[-1]["choices"] == []
        and chunks[-1]["usage"] == chat(http, model=model, messages=body["messages"])["usage"]
    )


def test_create_chat_completion_stream_without_usage_has_no_usage_key(target: tuple[httpx.Client, Starlette]) -> None:
    http, _ = target
    chunks = events(http, model="gpt-4o", n=2, messages=[{"role": "user", "content": "Hi"}])
    assert all("usage" not in chunk for chunk in chunks[:-1])
    finished = [c["choices"][0]["index"] for c in chunks[:-1] if c["choices"][0]["finish_reason"]]
    assert sorted(finished) == [0, 1]
    assert [c["choices"][0]["index"] for c in chunks[:4]] == [0, 1, 0, 1]  # round-robin, role deltas first


def test_create_chat_completion_tool_calls_for_a_model_trained_on_them(target: tuple[httpx.Client, Starlette]) -> None:
    http, app = target
    model = add_tuned_model(app, weather_examples(), suffix="weather", job="ftjob-weather")
    question = [{"role": "user", "content": "What is the weather like in Tokyo, Japan?"}]
    result = chat(http, model=model, tools=[WEATHER_TOOL], messages=question)
    choice = result["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    assert list(choice["message"]) == ["role", "content", "tool_calls", "refusal", "annotations"]
    [call] = choice["message"]["tool_calls"]
    assert call["id"].startswith("call_") and len(call["id"]) == 29 and call["type"] == "function"
    assert call["function"] == {
        "name": "get_current_weather",
        "arguments": '{"location":"Tokyo, Japan","unit":"celsius"}',
    }
    none = chat(http, model=model, tools=[WEATHER_TOOL], tool_choice="none", messages=question)
    assert none["choices"][0]["finish_reason"] == "stop" and "tool_calls" not in none["choices"][0]["message"]


def test_create_chat_completion_required_tool_choice_makes_a_call_of_the_schema(
    target: tuple[httpx.Client, Starlette],
) -> None:
    http, _ = target
    body = {"model": "gpt-4o", "tools": [WEATHER_TOOL], "messages": [{"role": "user", "content": "Weather?"}]}
    choice = chat(http, **body, tool_choice="required")["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    arguments = json.loads(choice["message"]["tool_calls"][0]["function"]["arguments"])
    assert set(arguments) == {"location", "unit"} and arguments["unit"] in ("celsius", "fahrenheit")
    named = {"type": "function", "function": {"name": "get_current_weather"}}
    assert chat(http, **body, tool_choice=named)["choices"][0]["finish_reason"] == "stop"


def test_create_chat_completion_json_schema_answer_is_of_the_schema(target: tuple[httpx.Client, Starlette]) -> None:
    http, _ = target
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer", "minimum": 0, "maximum": 120},
            "tags": {"type": "array", "items": {"type": "string"}},
            "ok": {"type": "boolean"},
        },
        "required": ["name", "age", "tags", "ok"],
        "additionalProperties": False,
    }
    response_format = {"type": "json_schema", "json_schema": {"name": "person", "schema": schema, "strict": True}}
    result = chat(http, model="gpt-4o", response_format=response_format, messages=[{"role": "user", "content": "Hi"}])
    jsonschema.validate(json.loads(content(result)), schema)


def test_create_chat_completion_json_object_answer_is_json(target: tuple[httpx.Client, Starlette]) -> None:
    http, _ = target
    messages = [{"role": "user", "content": "Answer in JSON"}]
    result = chat(http, model="gpt-4o", response_format={"type": "json_object"}, messages=messages)
    assert isinstance(json.loads(content(result)), dict)


def test_create_chat_completion_logprobs(target: tuple[httpx.Client, Starlette]) -> None:
    http, app = target
    model = add_tuned_model(app, marv_examples())
    result = chat(http, model=model, logprobs=True, top_logprobs=2, messages=conversation(FACTS[0][0]))
    entries = result["choices"][0]["logprobs"]["content"]
    assert result["choices"][0]["logprobs"]["refusal"] is None
    assert "".join(entry["token"] for entry in entries) == FACTS[0][1]
    for entry in entries:
        assert list(entry) == ["token", "logprob", "bytes", "top_logprobs"]
        assert bytes(entry["bytes"]) == entry["token"].encode() and entry["logprob"] < 0
        assert len(entry["top_logprobs"]) == 2 and entry["top_logprobs"][0]["token"] == entry["token"]
        assert entry["top_logprobs"][1]["logprob"] <= entry["logprob"]


def test_create_chat_completion_accepts_every_role_and_the_bookkeeping_fields(
    target: tuple[httpx.Client, Starlette],
) -> None:
    http, _ = target
    messages = [
        {"role": "developer", "content": "Be brief."},
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": [{"type": "text", "text": "Weather?"}], "name": "ann"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_current_weather", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
        {"role": "function", "name": "get_current_weather", "content": "sunny"},
    ]
    result = chat(
        http,
        model="gpt-4o",
        messages=messages,
        metadata={"run": "1"},
        store=True,
        user="user-1",
        top_p=0.5,
        seed=1,
    )
    assert content(result)
