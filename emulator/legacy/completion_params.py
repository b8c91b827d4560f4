"""Checking a completions request (§2.14): every legacy field, JSON null is the default, ranges -> 400."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import tiktoken

from emulator.core.catalogue import CONTEXT_LENGTH, modern_model
from emulator.core.errors import invalid_request
from emulator.core.tokens import ENDOFTEXT, encode
from emulator.http import params

KNOWN_FIELDS = frozenset(
    {
        "model",
        "prompt",
        "suffix",
        "max_tokens",
        "temperature",
        "top_p",
        "n",
        "stream",
        "logprobs",
        "echo",
        "stop",
        "presence_penalty",
        "frequency_penalty",
        "best_of",
        "logit_bias",
        "user",
        "seed",
        "stream_options",
    }
)
MAX_STOP_SEQUENCES = 4
MISSING_MODEL = "You must provide a model parameter"


@dataclass(frozen=True)
class Prompt:
    text: str
    tokens: list[int]


@dataclass(frozen=True)
class CompletionRequest:
    model: str
    prompts: list[Prompt]
    suffix: str | None
    suffix_tokens: int
    max_tokens: int
    temperature: float
    top_p: float
    n: int
    best_of: int
    stream: bool
    include_usage: bool
    logprobs: int | None
    echo: bool
    stop: list[str]
    presence_penalty: float
    frequency_penalty: float
    logit_bias: dict[str, float]
    user: str | None
    seed: int | None


def _not_valid(value: Any, name: str) -> Exception:
    return invalid_request(f"{value!r} is not valid under any of the given schemas - '{name}'", param=name)


def _token_prompt(encoding: tiktoken.Encoding, tokens: list[Any]) -> Prompt:
    for token in tokens:
        if isinstance(token, bool) or not isinstance(token, int):
            raise _not_valid(tokens, "prompt")
        if not 0 <= token < encoding.n_vocab:
            raise invalid_request(
                f"Invalid token {token} in 'prompt': token ids must be between 0 and {encoding.n_vocab - 1}.",
                param="prompt",
            )
    return Prompt(encoding.decode(tokens), list(tokens))


def parse_prompts(encoding: tiktoken.Encoding, value: Any) -> list[Prompt]:
    """string | string[] | int[] | int[][]; null means <|endoftext|>."""
    if value is None:
        value = ENDOFTEXT
    if isinstance(value, str):
        return [Prompt(value, encode(encoding, value))]
    if not isinstance(value, list) or not value:
        raise _not_valid(value, "prompt")
    if all(isinstance(item, str) for item in value):
        return [Prompt(item, encode(encoding, item)) for item in value]
    if all(isinstance(item, int) and not isinstance(item, bool) for item in value):
        return [_token_prompt(encoding, value)]
    if all(isinstance(item, list) and item for item in value):
        return [_token_prompt(encoding, item) for item in value]
    raise _not_valid(value, "prompt")


def _stop(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _not_valid(value, "stop")
    if len(value) > MAX_STOP_SEQUENCES:
        raise invalid_request(f"{value!r} is too long - 'stop'", param="stop")
    return [item for item in value if item]


def _logit_bias(encoding: tiktoken.Encoding, value: Any) -> dict[str, float]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid_request(f"{value!r} is not of type 'object' - 'logit_bias'", param="logit_bias")
    for key in value:
        if not (key.isascii() and key.isdigit()) or int(key) >= encoding.n_vocab:
            raise invalid_request(f"Invalid key in 'logit_bias': {key}. Keys must be token ids.", param="logit_bias")
        bias = value[key]
        if isinstance(bias, bool) or not isinstance(bias, int | float) or not -100 <= bias <= 100:
            raise invalid_request(
                f"{bias!r} is not a number between -100 and 100 - 'logit_bias.{key}'", param="logit_bias"
            )
    return dict(value)


def _include_usage(body: dict[str, Any], stream: bool) -> bool:
    options = body.get("stream_options")
    if options is None:
        return False
    if not stream:
        raise invalid_request(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.", param="stream_options"
        )
    if not isinstance(options, dict):
        raise invalid_request(f"{options!r} is not of type 'object' - 'stream_options'", param="stream_options")
    return bool(params.boolean(options, "include_usage", False))


def context_length(model: str) -> int:
    """2049 for the GPT-3 bases and their fine-tunes; the catalogue's window for davinci-002 and the like."""
    found = modern_model(model)
    return found.context_window if found is not None else CONTEXT_LENGTH


def check_context(prompts: list[Prompt], suffix_tokens: int, max_tokens: int, context: int = CONTEXT_LENGTH) -> None:
    """Prompt (and suffix) plus max_tokens must fit the model's context (2049 tokens), each prompt on its own."""
    for prompt in prompts:
        used = len(prompt.tokens) + suffix_tokens
        if used + max_tokens > context:
            raise invalid_request(
                f"This model's maximum context length is {context} tokens, however you requested "
                f"{used + max_tokens} tokens ({used} in your prompt; {max_tokens} for the completion). "
                "Please reduce your prompt; or completion length."
            )


def parse_completion_request(
    encoding: tiktoken.Encoding, body: dict[str, Any], path_model: str | None = None
) -> CompletionRequest:
    """Every check, in the order the fields are documented; raises the first problem as a 400."""
    for name in body:
        if name not in KNOWN_FIELDS:
            raise invalid_request(f"Unrecognized request argument supplied: {name}")
    model = path_model if path_model is not None else params.string(body, "model")
    if not model:
        raise invalid_request(MISSING_MODEL)
    prompts = parse_prompts(encoding, body.get("prompt"))
    suffix = params.string(body, "suffix")
    max_tokens = params.integer(body, "max_tokens", 16, minimum=0)
    n = params.integer(body, "n", 1, minimum=1, maximum=128)
    stream = params.boolean(body, "stream", False)
    best_of = params.integer(body, "best_of", minimum=1, maximum=20) or n
    assert max_tokens is not None and n is not None and stream is not None and best_of is not None
    if best_of < n:
        raise invalid_request(f"best_of ({best_of}) must be greater than or equal to n ({n}).", param="best_of")
    if stream and best_of > n:
        raise invalid_request("Cannot stream results when best_of is greater than n.", param="best_of")
    request = CompletionRequest(
        model=model,
        prompts=prompts,
        suffix=suffix,
        suffix_tokens=len(encode(encoding, suffix)) if suffix else 0,
        max_tokens=max_tokens,
        temperature=_number(body, "temperature", 1.0, 0, 2),
        top_p=_number(body, "top_p", 1.0, 0, 1),
        n=n,
        best_of=best_of,
        stream=stream,
        include_usage=_include_usage(body, stream),
        logprobs=params.integer(body, "logprobs", None, minimum=0, maximum=5),
        echo=bool(params.boolean(body, "echo", False)),
        stop=_stop(body.get("stop")),
        presence_penalty=_number(body, "presence_penalty", 0.0, -2, 2),
        frequency_penalty=_number(body, "frequency_penalty", 0.0, -2, 2),
        logit_bias=_logit_bias(encoding, body.get("logit_bias")),
        user=params.string(body, "user"),
        seed=params.integer(body, "seed"),
    )
    check_context(prompts, request.suffix_tokens, max_tokens, context_length(model))
    return request


def _number(body: dict[str, Any], name: str, default: float, minimum: float, maximum: float) -> float:
    value = params.number(body, name, default, minimum=minimum, maximum=maximum)
    assert value is not None
    return float(value)
