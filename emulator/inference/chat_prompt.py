"""A chat conversation as the models see it: its prompt tokens (the cookbook's counter) and its lookup key.

Prompt tokens follow the OpenAI cookbook's `num_tokens_from_messages` for gpt-3.5-turbo-0125, gpt-4-0613 and
the gpt-4o family: 3 tokens per message, the tokens of every string value (role, content, name, ...), 1 more
for a `name`, and 3 that prime the reply. Values that are not strings are counted as the cookbook never shows
(ours): content parts count their text (an image part counts 85 tokens, the low-detail price), and tool calls
and function calls count their compact JSON. Tools count the compact JSON of their definitions plus 12.
"""

from __future__ import annotations

import json
from typing import Any

import tiktoken

from emulator.core.tokens import encode

TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3
IMAGE_TOKENS = 85
TOOLS_OVERHEAD = 12


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=False)


def content_text(content: Any) -> str:
    """A message's text: the string, or its text parts joined by newlines (other parts are left out)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [part.get("text", "") for part in content if isinstance(part, dict) and part.get("type") == "text"]
        return "\n".join(text for text in texts if isinstance(text, str))
    return ""


def _value_tokens(encoding: tiktoken.Encoding, value: Any) -> int:
    if isinstance(value, str):
        return len(encode(encoding, value))
    if isinstance(value, list) and all(isinstance(part, dict) and "type" in part for part in value):
        images = sum(1 for part in value if part.get("type") != "text")
        return len(encode(encoding, content_text(value))) + images * IMAGE_TOKENS
    if value is None:
        return 0
    return len(encode(encoding, compact(value)))


def prompt_tokens(
    encoding: tiktoken.Encoding, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None
) -> int:
    total = REPLY_PRIMING
    for message in messages:
        total += TOKENS_PER_MESSAGE
        for key, value in message.items():
            total += _value_tokens(encoding, value)
            if key == "name":
                total += TOKENS_PER_NAME
    if tools:
        total += len(encode(encoding, compact(tools))) + TOOLS_OVERHEAD
    return total


def message_key(message: dict[str, Any]) -> str:
    """One turn as a line of the lookup key: role, then its text (tool calls as their name and arguments)."""
    role = str(message.get("role", ""))
    text = content_text(message.get("content"))
    calls = message.get("tool_calls") or ([message["function_call"]] if message.get("function_call") else [])
    for call in calls if isinstance(calls, list) else []:
        function = call.get("function", call) if isinstance(call, dict) else {}
        if isinstance(function, dict):
            text += f" {function.get('name', '')}({function.get('arguments', '')})"
    return f"{role}: {text.strip()}"


def conversation_key(messages: list[dict[str, Any]]) -> str:
    """The text the nearest-example index compares: every turn, in order, one per line."""
    return "\n".join(message_key(message) for message in messages)
