"""A chat model's answer: the training reply, the nearest conversation's reply or base-model text, or tool calls.

The source is chosen as for completions (answers.py): a conversation seen in training gets its reply; an unseen
one whose nearest training conversation is similar enough gets that reply with the base's quality
probability; anything else is base-model text, which for chat is a short answer of one to four sentences (ours)
that ends by itself. Text then goes through the completions engine (answers.generate_from): cut at the first
stop sequence or at the token budget. Tools: a trained reply with tool calls comes back as those calls when the
request offers tools; `tool_choice` "required" or a named function makes a call with arguments of the
function's parameter schema. A JSON response_format makes the text JSON (of the schema for json_schema).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import tiktoken

from emulator.core import ids
from emulator.core.tokens import encode
from emulator.inference import answers, quality
from emulator.inference.answers import Candidate, generate_from
from emulator.inference.chat_knowledge import ChatKnowledge
from emulator.inference.generation import text_seed, words
from emulator.inference.json_answers import instance, is_json, json_text

MAX_BASE_SENTENCES = 4
TOKENS_PER_TOOL_CALL = 3


@dataclass(frozen=True)
class ChatSpec:
    """What the answers to one request depend on."""

    seed: int
    model: str
    key: str
    temperature: float
    max_tokens: int
    stop: list[str]
    response_format: dict[str, Any] | None = None
    tools: list[dict[str, Any]] = field(default_factory=list)
    tool_choice: Any = "auto"
    parallel_tool_calls: bool = True
    logprobs: bool = False


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class ChatChoice:
    index: int
    spec: answers.Spec
    candidate: Candidate
    tool_calls: list[ToolCall]
    finish_reason: str
    completion_tokens: int


def choose(spec: ChatSpec, knowledge: ChatKnowledge | None) -> tuple[str, dict[str, Any] | None]:
    """('exact' | 'nearest', what the answer uses of the training conversation's reply) or ('base', None)."""
    if knowledge is None:
        return "base", None
    match = knowledge.index.nearest(spec.key)
    if match is None:
        return "base", None
    if match.exact:
        return "exact", knowledge.reply(match.index)
    near_enough = match.score >= answers.SIMILARITY_THRESHOLD
    if near_enough and quality.draw(spec.seed, spec.model, spec.key) < knowledge.quality:
        return "nearest", knowledge.reply(match.index)
    return "base", None


def _rng(spec: ChatSpec, choice: int, purpose: str) -> random.Random:
    """Temperature 0 is greedy: every choice is the same."""
    number = 0 if spec.temperature == 0 else choice
    return random.Random(text_seed(spec.seed, spec.model, spec.key, number, purpose))


def base_answer(rng: random.Random) -> Iterator[str]:
    """One to four sentences of base-model text, then the end."""
    sentences = rng.randint(1, MAX_BASE_SENTENCES)
    first = True
    for word in words(rng, ""):
        yield word.lstrip() if first else word
        first = False
        if word.endswith("."):
            sentences -= 1
            if not sentences:
                return


def _json_answer(spec: ChatSpec, rng: random.Random, trained: str | None) -> str:
    assert spec.response_format is not None
    kind = spec.response_format.get("type")
    if kind == "json_schema":
        schema = (spec.response_format.get("json_schema") or {}).get("schema") or {"type": "object"}
        if trained is not None and is_json(trained) and isinstance(json.loads(trained), dict):
            return trained
        return json_text(instance(rng, schema))
    if trained is not None and is_json(trained):
        return trained
    return json_text({"answer": "".join(base_answer(rng))})


def _text(spec: ChatSpec, rng: random.Random, reply: dict[str, Any] | None) -> Iterator[str]:
    trained = reply.get("content") if reply is not None else None
    if spec.response_format and spec.response_format.get("type") in ("json_object", "json_schema"):
        return iter([_json_answer(spec, rng, trained)])
    if trained is not None:
        return iter([trained])
    return base_answer(rng)


def _tool_named(spec: ChatSpec) -> str | None:
    if isinstance(spec.tool_choice, dict):
        name = (spec.tool_choice.get("function") or {}).get("name")
        return name if isinstance(name, str) else None
    return None


def _trained_calls(spec: ChatSpec, reply: dict[str, Any] | None) -> list[tuple[str, str]]:
    calls = reply.get("tool_calls") if reply is not None else None
    if not isinstance(calls, list):
        return []
    offered = {tool.get("function", {}).get("name") for tool in spec.tools}
    found = []
    for call in calls:
        function = call.get("function") if isinstance(call, dict) else None
        if isinstance(function, dict) and function.get("name") in offered:
            found.append((str(function["name"]), str(function.get("arguments", "{}"))))
    return found


def _made_call(spec: ChatSpec, rng: random.Random, name: str | None) -> tuple[str, str]:
    tools = [tool.get("function", {}) for tool in spec.tools]
    function = next((f for f in tools if f.get("name") == name), tools[0])
    parameters = function.get("parameters") or {"type": "object", "properties": {}}
    return str(function.get("name")), json_text(instance(rng, parameters))


def _calls(spec: ChatSpec, rng: random.Random, reply: dict[str, Any] | None) -> tuple[list[tuple[str, str]], str]:
    """The (name, arguments) calls to make and their finish reason; [] for a text answer."""
    if not spec.tools or spec.tool_choice == "none":
        return [], ""
    named = _tool_named(spec)
    calls = _trained_calls(spec, reply)
    if named is not None:
        calls = [call for call in calls if call[0] == named][:1] or [_made_call(spec, rng, named)]
        return calls, "stop"
    if not calls and spec.tool_choice == "required":
        calls = [_made_call(spec, rng, None)]
    return (calls if spec.parallel_tool_calls else calls[:1]), "tool_calls"


def call_id(spec: ChatSpec, choice: int, position: int) -> str:
    return "call_" + ids.draw(text_seed(spec.seed, spec.model, spec.key, choice, position, "call"), 0, length=24)


def _tool_choice(
    encoding: tiktoken.Encoding, spec: ChatSpec, inner: answers.Spec, index: int, calls: list[tuple[str, str]]
) -> tuple[list[ToolCall], int, bool]:
    """The calls, their tokens and whether the budget cut the arguments short."""
    made, used, cut = [], 0, False
    for position, (name, arguments) in enumerate(calls):
        budget = spec.max_tokens - used - TOKENS_PER_TOOL_CALL - len(encode(encoding, name))
        tokens = encode(encoding, arguments)
        if budget < len(tokens):
            tokens, cut = tokens[: max(budget, 0)], True
        made.append(ToolCall(call_id(spec, index, position), name, encoding.decode(tokens)))
        used += TOKENS_PER_TOOL_CALL + len(encode(encoding, name)) + len(tokens)
        if cut:
            break
    return made, min(used, spec.max_tokens), cut


def answer(encoding: tiktoken.Encoding, spec: ChatSpec, knowledge: ChatKnowledge | None, index: int) -> ChatChoice:
    """Choice number `index` of the request."""
    source, reply = choose(spec, knowledge)
    rng = _rng(spec, index, "text")
    inner = answers.Spec(spec.seed, spec.model, spec.key, None, index, spec.temperature, spec.max_tokens, spec.stop)
    calls, reason = _calls(spec, rng, reply)
    if calls:
        made, used, cut = _tool_choice(encoding, spec, inner, index, calls)
        empty = Candidate("", [], reason, source, [])
        return ChatChoice(index, inner, empty, made, "length" if cut else reason, used)
    candidate = generate_from(encoding, inner, source, _text(spec, rng, reply), logprobs=spec.logprobs)
    # A stop sequence inside the last token leaves text that may re-encode longer: usage stays within the budget.
    used = min(len(candidate.tokens), spec.max_tokens)
    return ChatChoice(index, inner, candidate, [], candidate.finish_reason, used)
