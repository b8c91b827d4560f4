"""Checking a chat completions request: every documented field, JSON null is the default, the modern error texts.

The modern API words its validation errors "Invalid type for 'n': expected an integer, but got a string
instead." with a code (invalid_type, integer_above_max_value, ...) and the field's path as param.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from emulator.core.errors import APIError, invalid_request

KNOWN_FIELDS = frozenset(
    [
        "messages",
        "model",
        "metadata",
        "top_logprobs",
        "temperature",
        "top_p",
        "user",
        "safety_identifier",
        "prompt_cache_key",
        "prompt_cache_retention",
        "prompt_cache_options",
        "service_tier",
        "modalities",
        "verbosity",
        "reasoning_effort",
        "max_completion_tokens",
        "frequency_penalty",
        "presence_penalty",
        "web_search_options",
        "response_format",
        "audio",
        "store",
        "moderation",
        "stream",
        "stop",
        "logit_bias",
        "logprobs",
        "max_tokens",
        "n",
        "prediction",
        "seed",
        "stream_options",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "function_call",
        "functions",
    ]
)
ROLES = ("system", "assistant", "user", "function", "tool", "developer")
MAX_STOP = 4
# Fields the spec does not let be null: an explicit null is a type error (as the real API answers for
# parallel_tool_calls); every other field takes null as "not given".
NOT_NULLABLE = {
    "messages": "an array",
    "user": "a string",
    "response_format": "an object",
    "tools": "an array",
    "tool_choice": "one of a string or object",
    "parallel_tool_calls": "a boolean",
    "functions": "an array",
    "function_call": "one of a string or object",
    "web_search_options": "an object",
    "prompt_cache_options": "an object",
}
TYPE_NAMES = {bool: "a boolean", int: "an integer", float: "a decimal", str: "a string", list: "an array"}


@dataclass(frozen=True)
class ChatRequest:
    model: str
    messages: list[dict[str, Any]]
    max_tokens: int | None  # max_completion_tokens, else max_tokens; None: up to the context window
    budget_param: str
    n: int
    stop: list[str]
    temperature: float
    top_p: float
    seed: int | None
    logprobs: bool
    top_logprobs: int
    stream: bool
    include_usage: bool
    response_format: dict[str, Any] | None
    tools: list[dict[str, Any]]
    tool_choice: Any
    parallel_tool_calls: bool
    metadata: dict[str, str] | None
    store: bool
    user: str | None


def _got(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "an object"
    return TYPE_NAMES.get(type(value), "a value")


def invalid_type(name: str, expected: str, value: Any) -> APIError:
    return invalid_request(
        f"Invalid type for '{name}': expected {expected}, but got {_got(value)} instead.", name, "invalid_type"
    )


def _bound(name: str, value: float, limit: float, above: bool, kind: str) -> APIError:
    word, sign, code_kind = ("above maximum", "<=", "max") if above else ("below minimum", ">=", "min")
    return invalid_request(
        f"Invalid '{name}': {kind} {word} value. Expected a value {sign} {limit:g}, but got {value:g} instead.",
        name,
        f"{kind}_{'above' if above else 'below'}_{code_kind}_value",
    )


def integer(body: dict[str, Any], name: str, default: int | None, low: int, high: int | None) -> int | None:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_type(name, "an integer", value)
    if value < low:
        raise _bound(name, value, low, False, "integer")
    if high is not None and value > high:
        raise _bound(name, value, high, True, "integer")
    return value


def number(body: dict[str, Any], name: str, default: float, low: float, high: float) -> float:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise invalid_type(name, "a decimal", value)
    if value < low:
        raise _bound(name, value, low, False, "decimal")
    if value > high:
        raise _bound(name, value, high, True, "decimal")
    return float(value)


def boolean(body: dict[str, Any], name: str, default: bool) -> bool:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise invalid_type(name, "a boolean", value)
    return value


def _message(position: int, message: Any) -> dict[str, Any]:
    where = f"messages[{position}]"
    if not isinstance(message, dict):
        raise invalid_type(where, "an object", message)
    role = message.get("role")
    if role is None:
        raise invalid_request(
            f"Missing required parameter: '{where}.role'.", f"{where}.role", "missing_required_parameter"
        )
    if role not in ROLES:
        supported = ", ".join(f"'{r}'" for r in ROLES[:-1]) + f", and '{ROLES[-1]}'"
        raise invalid_request(
            f"Invalid value: '{role}'. Supported values are: {supported}.", f"{where}.role", "invalid_value"
        )
    content = message.get("content")
    if content is None and role not in ("assistant",):
        raise invalid_request(
            f"Missing required parameter: '{where}.content'.", f"{where}.content", "missing_required_parameter"
        )
    if content is not None and not isinstance(content, str | list):
        raise invalid_type(f"{where}.content", "one of a string or array of objects", content)
    if role == "tool" and not isinstance(message.get("tool_call_id"), str):
        raise invalid_request(
            f"Missing required parameter: '{where}.tool_call_id'.",
            f"{where}.tool_call_id",
            "missing_required_parameter",
        )
    return message


def messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    value = body.get("messages")
    if value is None:
        raise invalid_request("Missing required parameter: 'messages'.", "messages", "missing_required_parameter")
    if not isinstance(value, list):
        raise invalid_type("messages", "an array", value)
    if not value:
        raise invalid_request(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
            "messages",
            "empty_array",
        )
    return [_message(position, message) for position, message in enumerate(value)]


def stop(body: dict[str, Any]) -> list[str]:
    value = body.get("stop")
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise invalid_type("stop", "one of a string or array of strings", value)
    if len(value) > MAX_STOP:
        raise invalid_request(
            f"Invalid 'stop': array too long. Expected an array with maximum length {MAX_STOP}, but got an array "
            f"with length {len(value)} instead.",
            "stop",
            "array_above_max_length",
        )
    return [item for item in value if item]


def response_format(body: dict[str, Any], messages_: list[dict[str, Any]]) -> dict[str, Any] | None:
    value = body.get("response_format")
    if value is None:
        return None
    if not isinstance(value, dict):
        raise invalid_type("response_format", "an object", value)
    kind = value.get("type")
    if kind not in ("text", "json_object", "json_schema"):
        raise invalid_request(
            f"Invalid value: '{kind}'. Supported values are: 'json_object', 'json_schema', and 'text'.",
            "response_format.type",
            "invalid_value",
        )
    if kind == "json_schema":
        schema = value.get("json_schema")
        if not isinstance(schema, dict) or not isinstance(schema.get("name"), str):
            raise invalid_request(
                "Missing required parameter: 'response_format.json_schema.name'.",
                "response_format.json_schema.name",
                "missing_required_parameter",
            )
    if kind == "json_object" and not any("json" in _text_of(m).lower() for m in messages_):
        raise invalid_request(
            "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
            "messages",
        )
    return None if kind == "text" else value


def _text_of(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return content if isinstance(content, str) else ""


def tools(body: dict[str, Any]) -> list[dict[str, Any]]:
    value = body.get("tools")
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid_type("tools", "an array", value)
    for position, tool in enumerate(value):
        function = tool.get("function") if isinstance(tool, dict) else None
        where = f"tools[{position}].function"
        if not isinstance(function, dict):
            raise invalid_request(f"Missing required parameter: '{where}'.", where, "missing_required_parameter")
        if not isinstance(function.get("name"), str):
            where += ".name"
            raise invalid_request(f"Missing required parameter: '{where}'.", where, "missing_required_parameter")
    return value


def tool_choice(body: dict[str, Any], tools_: list[dict[str, Any]]) -> Any:
    value = body.get("tool_choice")
    if value is None:
        return "auto" if tools_ else "none"
    if not tools_:
        raise invalid_request(
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
            "tool_choice",
        )
    if isinstance(value, str) and value in ("none", "auto", "required"):
        return value
    function = value.get("function") if isinstance(value, dict) else None
    name = function.get("name") if isinstance(function, dict) else None
    if not isinstance(name, str):
        raise invalid_request(
            f"Invalid value: '{value}'. Supported values are: 'none', 'auto', and 'required'.",
            "tool_choice",
            "invalid_value",
        )
    if name not in {tool["function"]["name"] for tool in tools_}:
        raise invalid_request(
            f"Invalid value for 'tool_choice': function '{name}' is not among the 'tools'.", "tool_choice"
        )
    return value


def include_usage(body: dict[str, Any], stream_: bool) -> bool:
    options = body.get("stream_options")
    if options is None:
        return False
    if not stream_:
        raise invalid_request(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options"
        )
    if not isinstance(options, dict):
        raise invalid_type("stream_options", "an object", options)
    return boolean(options, "include_usage", False)


def metadata(body: dict[str, Any]) -> dict[str, str] | None:
    value = body.get("metadata")
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise invalid_type("metadata", "an object of strings", value)
    if len(value) > 16:
        raise invalid_request(
            f"Invalid 'metadata': too many properties. Expected an object with at most 16 properties, but got an "
            f"object with {len(value)} properties instead.",
            "metadata",
            "object_above_max_properties",
        )
    return value


def _budget(body: dict[str, Any]) -> tuple[int | None, str]:
    if body.get("max_completion_tokens") is not None:
        return integer(body, "max_completion_tokens", None, 1, None), "max_completion_tokens"
    return integer(body, "max_tokens", None, 1, None), "max_tokens"


def parse_chat_request(body: dict[str, Any]) -> ChatRequest:
    """Every check, in the order the fields are documented; raises the first problem as a 400."""
    for name in body:
        if name not in KNOWN_FIELDS:
            raise invalid_request(f"Unrecognized request argument supplied: {name}")
    model = body.get("model")
    if not model or not isinstance(model, str):
        raise invalid_request("you must provide a model parameter")
    for name, expected in NOT_NULLABLE.items():
        if name in body and body[name] is None:
            raise invalid_type(name, expected, None)
    messages_ = messages(body)
    max_tokens, budget_param = _budget(body)
    logprobs = boolean(body, "logprobs", False)
    top = integer(body, "top_logprobs", None, 0, 20)
    if top is not None and not logprobs:
        raise invalid_request(
            "The 'top_logprobs' parameter is only allowed when 'logprobs' is enabled.", "top_logprobs"
        )
    stream_ = boolean(body, "stream", False)
    tools_ = tools(body)
    n = integer(body, "n", 1, 1, 128)
    assert n is not None
    return ChatRequest(
        model=model,
        messages=messages_,
        max_tokens=max_tokens,
        budget_param=budget_param,
        n=n,
        stop=stop(body),
        temperature=number(body, "temperature", 1.0, 0, 2),
        top_p=number(body, "top_p", 1.0, 0, 1),
        seed=integer(body, "seed", None, -(2**63), 2**63 - 1),
        logprobs=logprobs,
        top_logprobs=top or 0,
        stream=stream_,
        include_usage=include_usage(body, stream_),
        response_format=response_format(body, messages_),
        tools=tools_,
        tool_choice=tool_choice(body, tools_),
        parallel_tool_calls=parallel_tool_calls(body, tools_),
        metadata=metadata(body),
        store=boolean(body, "store", False),
        user=_user(body),
    )


def parallel_tool_calls(body: dict[str, Any], tools_: list[dict[str, Any]]) -> bool:
    if body.get("parallel_tool_calls") is not None and not tools_:
        raise invalid_request(
            "Invalid value for 'parallel_tool_calls': 'parallel_tool_calls' is only allowed when 'tools' are "
            "specified.",
            "parallel_tool_calls",
        )
    return boolean(body, "parallel_tool_calls", True)


def _user(body: dict[str, Any]) -> str | None:
    value = body.get("user")
    if value is not None and not isinstance(value, str):
        raise invalid_type("user", "a string", value)
    return value
