"""Chat completions' errors, whole envelopes: bad fields, unknown and wrong-endpoint models, context length."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from emulator.core.tokens import cl100k_base
from tests.conftest import assert_error
from tests.emulator.core.test_tokens_modern import chat_tokens
from tests.emulator.v1.chat_support import WEATHER_TOOL, add_tuned_model, marv_examples

HI = [{"role": "user", "content": "Hi"}]
NOT_CHAT = (
    "This is not a chat model and thus not supported in the v1/chat/completions endpoint. "
    "Did you mean to use v1/completions?"
)
CHAT_ON_COMPLETIONS = (
    "This is a chat model and not supported in the v1/completions endpoint. Did you mean to use v1/chat/completions?"
)


def post(http: httpx.Client, **body: Any) -> httpx.Response:
    return http.post("/chat/completions", json=body)


@pytest.mark.parametrize(
    ("body", "message", "param", "code"),
    [
        ({"messages": HI}, "you must provide a model parameter", None, None),
        ({"model": "gpt-4o"}, "Missing required parameter: 'messages'.", "messages", "missing_required_parameter"),
        (
            {"model": "gpt-4o", "messages": []},
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
            "messages",
            "empty_array",
        ),
        (
            {"model": "gpt-4o", "messages": [{"role": "robot", "content": "x"}]},
            "Invalid value: 'robot'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and "
            "'developer'.",
            "messages[0].role",
            "invalid_value",
        ),
        (
            {"model": "gpt-4o", "messages": HI, "n": "2"},
            "Invalid type for 'n': expected an integer, but got a string instead.",
            "n",
            "invalid_type",
        ),
        (
            {"model": "gpt-4o", "messages": HI, "n": 129},
            "Invalid 'n': integer above maximum value. Expected a value <= 128, but got 129 instead.",
            "n",
            "integer_above_max_value",
        ),
        (
            {"model": "gpt-4o", "messages": HI, "temperature": 2.5},
            "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 2.5 instead.",
            "temperature",
            "decimal_above_max_value",
        ),
        (
            {"model": "gpt-4o", "messages": HI, "max_completion_tokens": 0},
            "Invalid 'max_completion_tokens': integer below minimum value. Expected a value >= 1, but got 0 instead.",
            "max_completion_tokens",
            "integer_below_min_value",
        ),
        (
            {"model": "gpt-4o", "messages": HI, "stop": ["a", "b", "c", "d", "e"]},
            "Invalid 'stop': array too long. Expected an array with maximum length 4, but got an array with length 5 "
            "instead.",
            "stop",
            "array_above_max_length",
        ),
        (
            {"model": "gpt-4o", "messages": HI, "stream_options": {"include_usage": True}},
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            "stream_options",
            None,
        ),
        (
            {"model": "gpt-4o", "messages": HI, "response_format": {"type": "json_object"}},
            "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
            "messages",
            None,
        ),
        (
            {"model": "gpt-4o", "messages": HI, "tool_choice": "auto"},
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
            "tool_choice",
            None,
        ),
        (
            {"model": "gpt-4o", "messages": HI, "tools": [WEATHER_TOOL], "tool_choice": "always"},
            "Invalid value: 'always'. Supported values are: 'none', 'auto', and 'required'.",
            "tool_choice",
            "invalid_value",
        ),
        (
            {"model": "gpt-4o", "messages": HI, "prompt": "x"},
            "Unrecognized request argument supplied: prompt",
            None,
            None,
        ),
        (
            {"model": "gpt-4o", "messages": HI, "parallel_tool_calls": None},
            "Invalid type for 'parallel_tool_calls': expected a boolean, but got null instead.",
            "parallel_tool_calls",
            "invalid_type",
        ),
        (
            {"model": "gpt-4o", "messages": HI, "parallel_tool_calls": False},
            "Invalid value for 'parallel_tool_calls': 'parallel_tool_calls' is only allowed when 'tools' are "
            "specified.",
            "parallel_tool_calls",
            None,
        ),
        (
            {"model": "gpt-4o", "messages": HI, "tools": [{"type": "function"}]},
            "Missing required parameter: 'tools[0].function'.",
            "tools[0].function",
            "missing_required_parameter",
        ),
        (
            {"model": "gpt-4o", "messages": HI, "response_format": {"type": "yaml"}},
            "Invalid value: 'yaml'. Supported values are: 'json_object', 'json_schema', and 'text'.",
            "response_format.type",
            "invalid_value",
        ),
        (
            {"model": "gpt-4o", "messages": HI, "top_logprobs": 2},
            "The 'top_logprobs' parameter is only allowed when 'logprobs' is enabled.",
            "top_logprobs",
            None,
        ),
    ],
)
def test_create_chat_completion_bad_request(
    api: httpx.Client, body: dict[str, Any], message: str, param: str | None, code: str | None
) -> None:
    assert_error(post(api, **body), 400, message, param=param, code=code)


def test_create_chat_completion_unknown_model(api: httpx.Client) -> None:
    message = "The model `gpt-9` does not exist or you do not have access to it."
    assert_error(post(api, model="gpt-9", messages=HI), 404, message, code="model_not_found")
    name = "ft:gpt-4o-mini-2024-07-18:personal::Zz99Zz99"
    message = f"The model `{name}` does not exist or you do not have access to it."
    assert_error(post(api, model=name, messages=HI), 404, message, code="model_not_found")


@pytest.mark.parametrize("model", ["davinci-002", "babbage-002", "gpt-3.5-turbo-instruct", "curie"])
def test_create_chat_completion_completion_model_is_not_a_chat_model(api: httpx.Client, model: str) -> None:
    assert_error(post(api, model=model, messages=HI), 404, NOT_CHAT, param="model")


def test_create_chat_completion_tuned_completion_model_is_not_a_chat_model(app: Starlette, api: httpx.Client) -> None:
    model = add_tuned_model(app, marv_examples(), base="davinci-002", suffix="")
    assert_error(post(api, model=model, messages=HI), 404, NOT_CHAT, param="model")


@pytest.mark.parametrize("model", ["gpt-4o-mini", "gpt-3.5-turbo", "gpt-4.1-2025-04-14"])
def test_create_completion_chat_model_is_refused(api: httpx.Client, model: str) -> None:
    response = api.post("/completions", json={"model": model, "prompt": "Hi"})
    assert_error(response, 404, CHAT_ON_COMPLETIONS, param="model")


def test_create_completion_tuned_chat_model_is_refused(app: Starlette, api: httpx.Client) -> None:
    model = add_tuned_model(app, marv_examples())
    response = api.post("/completions", json={"model": model, "prompt": "Hi"})
    assert_error(response, 404, CHAT_ON_COMPLETIONS, param="model")


def test_create_chat_completion_context_length_exceeded(api: httpx.Client) -> None:
    messages = [{"role": "user", "content": "hello " * 5000}]
    used = chat_tokens(cl100k_base(), messages)
    assert post(api, model="gpt-3.5-turbo-0125", messages=messages).status_code == 200
    assert_error(
        post(api, model="gpt-3.5-turbo-0125", messages=messages, max_tokens=12000),
        400,
        f"This model's maximum context length is 16385 tokens. However, you requested {used + 12000} tokens "
        f"({used} in the messages, 12000 in the completion). Please reduce the length of the messages or completion.",
        param="messages",
        code="context_length_exceeded",
    )
    assert_error(
        post(api, model="gpt-3.5-turbo-0613", messages=messages),
        400,
        f"This model's maximum context length is 4096 tokens. However, you requested {used} tokens "
        f"({used} in the messages, 0 in the completion). Please reduce the length of the messages or completion.",
        param="messages",
        code="context_length_exceeded",
    )
