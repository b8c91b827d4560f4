"""The chat completion's wire objects in the captures' key order: choices, logprobs, usage, stream chunks."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import tiktoken

from emulator.http.sse import DONE, sse_data
from emulator.inference.answers import alternatives, text_pieces, token_strings
from emulator.inference.chat_answers import ChatChoice, ToolCall
from emulator.inference.generation import text_seed


def usage_object(prompt_tokens: int, completion_tokens: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _token_entry(name: str, logprob: float) -> dict[str, Any]:
    raw = name[6:].encode("latin-1", "replace") if name.startswith("bytes:") else name.encode()
    return {"token": name, "logprob": logprob, "bytes": list(raw)}


def logprobs_content(encoding: tiktoken.Encoding, choice: ChatChoice, top: int) -> list[dict[str, Any]]:
    """One entry per completion token, each with its `top` most likely alternatives (the chosen one first)."""
    names = token_strings(encoding, choice.candidate.tokens)
    spec = choice.spec
    rng = random.Random(text_seed(spec.seed, spec.model, spec.prompt, choice.index, "top", "chat"))
    content = []
    for name, value in zip(names, choice.candidate.token_logprobs, strict=True):
        others = alternatives(encoding, rng, name, value, top) if top else {}
        entry = _token_entry(name, value)
        entry["top_logprobs"] = [_token_entry(token, logprob) for token, logprob in others.items()]
        content.append(entry)
    return content


def tool_call_object(call: ToolCall) -> dict[str, Any]:
    return {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}


def message_object(choice: ChatChoice) -> dict[str, Any]:
    """role, content, tool_calls (when there are), refusal, annotations: the captures' order."""
    message: dict[str, Any] = {"role": "assistant", "content": None if choice.tool_calls else choice.candidate.text}
    if choice.tool_calls:
        message["tool_calls"] = [tool_call_object(call) for call in choice.tool_calls]
    message["refusal"] = None
    message["annotations"] = []
    return message


def choice_object(encoding: tiktoken.Encoding, choice: ChatChoice, logprobs: bool, top: int) -> dict[str, Any]:
    return {
        "index": choice.index,
        "message": message_object(choice),
        "logprobs": {"content": logprobs_content(encoding, choice, top), "refusal": None} if logprobs else None,
        "finish_reason": choice.finish_reason,
    }


def completion_object(head: dict[str, Any], choices: list[dict[str, Any]], usage: dict[str, Any]) -> dict[str, Any]:
    return {**head, "choices": choices, "usage": usage, "service_tier": "default"}


def _chunk(head: dict[str, Any], choice: dict[str, Any] | None, include_usage: bool) -> str:
    body = {
        **head,
        "service_tier": "default",
        "choices": [] if choice is None else [choice],
    }
    if include_usage:
        body["usage"] = None
    return sse_data(body)


def _delta(index: int, delta: dict[str, Any], logprobs: Any = None, finish: str | None = None) -> dict[str, Any]:
    return {"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish}


def _choice_deltas(
    encoding: tiktoken.Encoding, choice: ChatChoice, logprobs: bool, top: int
) -> Iterator[dict[str, Any]]:
    """The role delta, then a content (or tool-call argument) delta per token, then the finish delta."""
    if choice.tool_calls:
        yield _delta(choice.index, {"role": "assistant", "content": None, "refusal": None})
        for position, call in enumerate(choice.tool_calls):
            header = {"index": position, "id": call.id, "type": "function"}
            header["function"] = {"name": call.name, "arguments": ""}
            yield _delta(choice.index, {"tool_calls": [header]})
            for piece in text_pieces(encoding, encoding.encode(call.arguments, allowed_special="all")):
                yield _delta(choice.index, {"tool_calls": [{"index": position, "function": {"arguments": piece}}]})
    else:
        yield _delta(choice.index, {"role": "assistant", "content": "", "refusal": None})
        entries = logprobs_content(encoding, choice, top) if logprobs else None
        pieces = text_pieces(encoding, choice.candidate.tokens)
        for step, piece in enumerate(pieces):
            step_logprobs = {"content": [entries[step]], "refusal": None} if entries is not None else None
            yield _delta(choice.index, {"content": piece}, step_logprobs)
    yield _delta(choice.index, {}, None, choice.finish_reason)


def stream_events(
    encoding: tiktoken.Encoding,
    head: dict[str, Any],
    choices: list[ChatChoice],
    usage: dict[str, Any] | None,
    logprobs: bool,
    top: int,
) -> Iterator[str]:
    """The choices' chunks round-robin (one delta of each in turn), the usage chunk when asked for, [DONE]."""
    pending = [_choice_deltas(encoding, choice, logprobs, top) for choice in choices]
    while pending:
        for deltas in list(pending):
            delta = next(deltas, None)
            if delta is None:
                pending.remove(deltas)
            else:
                yield _chunk(head, delta, usage is not None)
    if usage is not None:
        yield sse_data({**head, "service_tier": "default", "choices": [], "usage": usage})
    yield DONE
