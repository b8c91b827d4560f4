"""Chat completions (A10): the object, exact usage per encoding, streams, n, stop, budgets, JSON, tools, errors."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from conformance.handle import Ftemu
from conformance.suite.support import assert_error
from emulator.core.tokens import cl100k_base, o200k_base

behaviour = pytest.mark.behaviour
pytestmark = pytest.mark.spend(0.01)
KEYS = ["id", "object", "created", "model", "choices", "usage"]
USAGE_KEYS = [
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "prompt_tokens_details",
    "completion_tokens_details",
]
HI = [{"role": "user", "content": "Say hello in five words."}]
TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
    },
}


def chat(ftemu: Ftemu, **body: Any) -> dict[str, Any]:
    response = ftemu.http.post("/chat/completions", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def cookbook_tokens(encoding: Any, messages: list[dict[str, str]]) -> int:
    """The OpenAI cookbook's num_tokens_from_messages: 3 per message, 1 per name, 3 priming the reply."""
    total = 3
    for message in messages:
        total += 3 + sum(len(encoding.encode(value)) for value in message.values())
        total += 1 if "name" in message else 0
    return total


def chunks(ftemu: Ftemu, **body: Any) -> list[Any]:
    response = ftemu.http.post("/chat/completions", json={**body, "stream": True})
    assert response.status_code == 200, response.text
    return [
        block[6:] if block == "data: [DONE]" else json.loads(block[6:])
        for block in response.text.split("\n\n")
        if block.startswith("data: ")
    ]


@behaviour("§A10", "A chat completion is `chat.completion` in the captures' key order with a `chatcmpl-` id")
def test_create_chat_completion_returns_the_object(ftemu: Ftemu) -> None:
    body = chat(ftemu, model="gpt-4o-mini", messages=HI, max_completion_tokens=20)
    assert list(body)[:6] == KEYS and body["object"] == "chat.completion"
    assert re.fullmatch(r"chatcmpl-[A-Za-z0-9]{20,40}", body["id"]) and isinstance(body["created"], int)
    assert body["model"].startswith("gpt-4o-mini")
    (choice,) = body["choices"]
    assert list(choice) == ["index", "message", "logprobs", "finish_reason"] and choice["logprobs"] is None
    assert choice["message"]["role"] == "assistant" and isinstance(choice["message"]["content"], str)
    assert choice["message"]["refusal"] is None and choice["finish_reason"] in ("stop", "length")
    assert list(body["usage"]) == USAGE_KEYS


@behaviour("§A10", "Prompt tokens are the cookbook's count: o200k_base for gpt-4o, cl100k_base for gpt-3.5-turbo")
def test_create_chat_completion_usage_is_exact(ftemu: Ftemu) -> None:
    messages = [
        {"role": "system", "content": "You translate corporate jargon into plain English."},
        {"role": "system", "name": "example_user", "content": "New synergies will help drive top-line growth."},
        {"role": "user", "content": "This late pivot means we don't have time to boil the ocean."},
    ]
    for model, encoding in (("gpt-4o-mini", o200k_base()), ("gpt-3.5-turbo", cl100k_base())):
        usage = chat(ftemu, model=model, messages=messages, max_completion_tokens=10)["usage"]
        assert usage["prompt_tokens"] == cookbook_tokens(encoding, messages)
        assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


@behaviour("§A10", "`max_completion_tokens` (and the older `max_tokens`) cut the answer with `length`")
def test_create_chat_completion_budget_is_length(ftemu: Ftemu) -> None:
    for field in ("max_completion_tokens", "max_tokens"):
        body = chat(ftemu, model="gpt-4o-mini", messages=HI, **{field: 1})
        assert body["choices"][0]["finish_reason"] == "length" and body["usage"]["completion_tokens"] == 1


@behaviour("§A10", "`n` gives that many choices, indexed from 0")
def test_create_chat_completion_n(ftemu: Ftemu) -> None:
    body = chat(ftemu, model="gpt-4o-mini", messages=HI, n=3, max_completion_tokens=10)
    assert [choice["index"] for choice in body["choices"]] == [0, 1, 2]


@behaviour("§A10", "A stop sequence never appears in the answer")
def test_create_chat_completion_stop(ftemu: Ftemu) -> None:
    body = chat(ftemu, model="gpt-4o-mini", messages=HI, stop=["e", "o"], max_completion_tokens=30)
    text = body["choices"][0]["message"]["content"]
    assert "e" not in text and "o" not in text


@behaviour("§A10", "A stream: role delta first, content deltas, a finish chunk, the usage chunk, then [DONE]")
def test_create_chat_completion_stream_with_usage(ftemu: Ftemu) -> None:
    events = chunks(
        ftemu, model="gpt-4o-mini", messages=HI, max_completion_tokens=20, stream_options={"include_usage": True}
    )
    assert events[-1] == "[DONE]"
    objects = events[:-1]
    assert {chunk["id"] for chunk in objects} == {objects[0]["id"]}
    assert all(chunk["object"] == "chat.completion.chunk" for chunk in objects)
    assert objects[0]["choices"][0]["delta"]["role"] == "assistant"
    assert objects[-2]["choices"][0]["delta"] == {} and objects[-2]["choices"][0]["finish_reason"] in ("stop", "length")
    assert all(chunk["usage"] is None for chunk in objects[:-1])
    assert objects[-1]["choices"] == [] and list(objects[-1]["usage"]) == USAGE_KEYS
    text = "".join(chunk["choices"][0]["delta"].get("content") or "" for chunk in objects[1:-2])
    assert objects[-1]["usage"]["completion_tokens"] == len(o200k_base().encode(text))


@behaviour("§A10", "`response_format` json_schema: the answer is JSON of the schema")
def test_create_chat_completion_json_schema(ftemu: Ftemu) -> None:
    schema = TOOL["function"]["parameters"]  # type: ignore[index]
    response_format = {"type": "json_schema", "json_schema": {"name": "weather", "schema": schema, "strict": True}}
    body = chat(ftemu, model="gpt-4o-mini", messages=HI, response_format=response_format)
    value = json.loads(body["choices"][0]["message"]["content"])
    assert set(value) == {"city", "unit"} and isinstance(value["city"], str) and value["unit"] in ("c", "f")


@behaviour("§A10", "`tool_choice` required: the answer is a tool call with JSON arguments, `finish_reason` tool_calls")
def test_create_chat_completion_required_tool_call(ftemu: Ftemu) -> None:
    messages = [{"role": "user", "content": "What's the weather in Paris?"}]
    body = chat(ftemu, model="gpt-4o-mini", messages=messages, tools=[TOOL], tool_choice="required")
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls" and choice["message"]["content"] is None
    call = choice["message"]["tool_calls"][0]
    assert call["id"].startswith("call_") and call["type"] == "function" and call["function"]["name"] == "get_weather"
    assert set(json.loads(call["function"]["arguments"])) == {"city", "unit"}


@behaviour("§A10", "A completion model on chat completions: 404, not a chat model")
def test_create_chat_completion_completion_model(ftemu: Ftemu) -> None:
    response = ftemu.http.post("/chat/completions", json={"model": "davinci-002", "messages": HI})
    assert_error(
        response,
        404,
        "This is not a chat model and thus not supported in the v1/chat/completions endpoint. "
        "Did you mean to use v1/completions?",
        param="model",
    )


@behaviour("§A10", "A chat model on completions: 404, a chat model")
def test_create_completion_chat_model(ftemu: Ftemu) -> None:
    response = ftemu.http.post("/completions", json={"model": "gpt-4o-mini", "prompt": "Hello"})
    assert_error(
        response,
        404,
        "This is a chat model and not supported in the v1/completions endpoint. "
        "Did you mean to use v1/chat/completions?",
        param="model",
    )


@behaviour("§A10", "The context window is checked: the real text, param `messages`, code context_length_exceeded")
def test_create_chat_completion_context_length(ftemu: Ftemu) -> None:
    messages = [{"role": "user", "content": "hello " * 3000}]
    used = cookbook_tokens(cl100k_base(), messages)
    response = ftemu.http.post(
        "/chat/completions", json={"model": "gpt-3.5-turbo-0613", "messages": messages, "max_tokens": 2000}
    )
    assert_error(
        response,
        400,
        f"This model's maximum context length is 4096 tokens. However, you requested {used + 2000} tokens ({used} in "
        "the messages, 2000 in the completion). Please reduce the length of the messages or completion.",
        param="messages",
        code="context_length_exceeded",
    )


@behaviour("§A10", "An unknown model: 404 model_not_found")
def test_create_chat_completion_unknown_model(ftemu: Ftemu) -> None:
    response = ftemu.http.post("/chat/completions", json={"model": "gpt-nope", "messages": HI})
    assert_error(
        response, 404, "The model `gpt-nope` does not exist or you do not have access to it.", code="model_not_found"
    )


@behaviour("§A10", "davinci-002, babbage-002 and gpt-3.5-turbo-instruct answer on completions with cl100k usage")
def test_create_completion_modern_completion_models(ftemu: Ftemu) -> None:
    for model in ("davinci-002", "babbage-002", "gpt-3.5-turbo-instruct"):
        response = ftemu.http.post("/completions", json={"model": model, "prompt": "Once upon a time", "max_tokens": 3})
        assert response.status_code == 200, response.text
        assert response.json()["usage"]["prompt_tokens"] == len(cl100k_base().encode("Once upon a time"))
