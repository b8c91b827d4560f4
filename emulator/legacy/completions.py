"""The completions resource (§2.14): POST /v1/completions and /v1/engines/{model}/completions."""

from __future__ import annotations

import functools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import tiktoken
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from emulator.core import ids
from emulator.core.catalogue import BASE_MODELS, modern_model
from emulator.core.container import Core
from emulator.core.errors import not_found
from emulator.core.tokens import encoding_for_model
from emulator.http import params
from emulator.http.deps import authorized
from emulator.http.routing import Router
from emulator.http.sse import DONE, event_stream, sse_data
from emulator.inference.answers import Candidate, Spec, Tuned, alternatives, generate, text_pieces, token_logprobs
from emulator.inference.answers import token_strings as strings_of
from emulator.inference.chat_knowledge import is_job_model
from emulator.inference.generation import text_seed
from emulator.inference.kept import completing
from emulator.inference.quality import parse_quality
from emulator.legacy.completion_params import CompletionRequest, Prompt, parse_completion_request
from emulator.store import ModelRecord, Organization

router = Router()
CHAT_MODEL = (
    "This is a chat model and not supported in the v1/completions endpoint. Did you mean to use v1/chat/completions?"
)
# Above this many tokens to generate, the work moves off the event loop.
INLINE_TOKENS = 4096


@dataclass(frozen=True)
class Choice:
    index: int
    prompt: Prompt
    spec: Spec
    candidate: Candidate


@functools.lru_cache(maxsize=8)
def quality_table(value: str) -> dict[str, float]:
    return parse_quality(value)


def model_does_not_exist(model: str) -> Exception:
    return not_found(f"The model `{model}` does not exist", code="model_not_found")


def chat_model_on_completions() -> Exception:
    return not_found(CHAT_MODEL, param="model")


async def resolve_model(app: Core, org: Organization, model: str) -> Tuned | None:
    """None for a base model, the tuned model's knowledge otherwise; 404 for unknown, deleted or foreign."""
    if model in BASE_MODELS:
        return None
    modern = None if model.startswith("ft:") else modern_model(model)
    if modern is not None:
        if modern.kind == "chat":
            raise chat_model_on_completions()
        return None
    app.catch_up(org)
    record = app.store.get_model(org.id, model)
    if record is None or app.outcomes.model_not_ready(record, app.now()):
        raise model_does_not_exist(model)
    if is_job_model(record):
        return await _job_model(app, record)
    index = app.tuned_models.cached(record)
    if index is None:
        index = await run_in_threadpool(app.tuned_models.index, app.store, record)
    return Tuned(index, quality_table(app.settings.quality).get(record.root, 0.0))


async def _job_model(app: Core, record: ModelRecord) -> Tuned:
    """A model tuned from davinci-002 / babbage-002 by a fine-tuning job: its prompts and completions."""
    base = modern_model(record.root)
    if base is None or base.kind == "chat":
        raise chat_model_on_completions()
    knowledge = app.chat_models.cached(app.store, record)
    if knowledge is None:
        knowledge = await run_in_threadpool(app.chat_models.knowledge, app.store, record)
    return Tuned(knowledge.index, knowledge.quality)  # the completion-format view: prompts and completions


def _choices(
    encoding: tiktoken.Encoding, app: Core, request: CompletionRequest, tuned: Tuned | None
) -> tuple[list[Choice], int]:
    """The returned choices (indexed across prompts) and the completion tokens of every candidate made."""
    choices: list[Choice] = []
    generated = 0
    for number, prompt in enumerate(request.prompts):
        made = []
        for candidate_number in range(request.best_of):
            spec = Spec(
                seed=app.store.seed if request.seed is None else request.seed,
                model=request.model,
                prompt=prompt.text,
                suffix=request.suffix,
                choice=candidate_number,
                temperature=request.temperature,
                max_tokens=request.max_tokens,
                stop=request.stop,
            )
            made.append((spec, generate(encoding, spec, tuned)))
        generated += sum(len(candidate.tokens) for _, candidate in made)
        if request.best_of > request.n:
            made.sort(key=lambda item: -item[1].mean_logprob)
        for position, (spec, candidate) in enumerate(made[: request.n]):
            choices.append(Choice(number * request.n + position, prompt, spec, candidate))
    return choices, generated


def _logprobs(
    encoding: tiktoken.Encoding,
    request: CompletionRequest,
    choice: Choice,
    part: str,
) -> dict[str, Any]:
    """tokens, token_logprobs, top_logprobs, text_offset of the choice's prompt or completion part."""
    assert request.logprobs is not None
    values: list[float | None]
    if part == "prompt":
        tokens, offset = choice.prompt.tokens, 0
        drawn = token_logprobs(choice.spec, "prompt", len(tokens))
        values = [None, *drawn[1:]] if drawn else []
    else:
        tokens, offset = choice.candidate.tokens, len(choice.prompt.text)
        values = list(choice.candidate.token_logprobs)
    seed = text_seed(choice.spec.seed, choice.spec.model, choice.prompt.text, choice.index, "top", part)
    rng = random.Random(seed)
    names = strings_of(encoding, tokens)
    offsets = []
    for piece in text_pieces(encoding, tokens):
        offsets.append(offset)
        offset += len(piece)
    top = [
        None if value is None else alternatives(encoding, rng, name, value, request.logprobs)
        for name, value in zip(names, values, strict=True)
    ]
    return {"tokens": names, "token_logprobs": values, "top_logprobs": top, "text_offset": offsets}


def _join(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    return {key: first[key] + second[key] for key in first}


def _at(logprobs: dict[str, Any] | None, step: int) -> dict[str, Any] | None:
    """One token's slice of a logprobs object (None stays None; past the end gives empty lists)."""
    if logprobs is None:
        return None
    return {key: values[step : step + 1] for key, values in logprobs.items()}


def choice_object(encoding: tiktoken.Encoding, request: CompletionRequest, choice: Choice) -> dict[str, Any]:
    candidate = choice.candidate
    text = choice.prompt.text + candidate.text if request.echo else candidate.text
    logprobs = None
    if request.logprobs is not None:
        logprobs = _logprobs(encoding, request, choice, "completion")
        if request.echo:
            logprobs = _join(_logprobs(encoding, request, choice, "prompt"), logprobs)
    return {
        "text": text,
        "index": choice.index,
        "logprobs": logprobs,
        "finish_reason": candidate.finish_reason,
    }


def usage_object(request: CompletionRequest, generated: int) -> dict[str, int]:
    prompt_tokens = sum(len(prompt.tokens) + request.suffix_tokens for prompt in request.prompts)
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": generated,
        "total_tokens": prompt_tokens + generated,
    }


def completion_id(app: Core) -> str:
    """Not stored, so not from the store's counter: the seed and this instance's count of completions."""
    return "cmpl-" + ids.draw(app.store.seed, -next(app.completion_counter), length=29)


def _chunk(head: dict[str, Any], choice: dict[str, Any], request: CompletionRequest) -> str:
    body = {**head, "choices": [choice], "model": request.model}
    if request.include_usage:
        body["usage"] = None
    return sse_data(body)


def _stream(
    encoding: tiktoken.Encoding,
    request: CompletionRequest,
    choices: list[Choice],
    head: dict[str, Any],
    usage: dict[str, int],
) -> Iterator[str]:
    """Echoed prompts, one chunk per token round-robin across choices, a closing chunk each, [DONE]."""
    with_logprobs = request.logprobs is not None
    for choice in choices if request.echo else []:
        logprobs = _logprobs(encoding, request, choice, "prompt") if with_logprobs else None
        piece = {"text": choice.prompt.text, "index": choice.index, "logprobs": logprobs, "finish_reason": None}
        yield _chunk(head, piece, request)
    pieces = {choice.index: text_pieces(encoding, choice.candidate.tokens) for choice in choices}
    full = {c.index: _logprobs(encoding, request, c, "completion") if with_logprobs else None for c in choices}
    for step in range(max((len(p) for p in pieces.values()), default=0)):
        for choice in choices:
            if step < len(pieces[choice.index]):
                text, logprobs = pieces[choice.index][step], _at(full[choice.index], step)
                piece = {"text": text, "index": choice.index, "logprobs": logprobs, "finish_reason": None}
                yield _chunk(head, piece, request)
    for choice in choices:
        closing = {
            "text": "",
            "index": choice.index,
            "logprobs": _at(full[choice.index], len(pieces[choice.index])),
            "finish_reason": choice.candidate.finish_reason,
        }
        yield _chunk(head, closing, request)
    if request.include_usage:
        yield sse_data({**head, "choices": [], "model": request.model, "usage": usage})
    yield DONE


async def _complete(request: Request, org: Organization, app: Core, path_model: str | None) -> Any:
    body = await params.json_body(request)
    model = path_model if path_model is not None else body.get("model")
    encoding = encoding_for_model(model if isinstance(model, str) else "")
    parsed = parse_completion_request(encoding, body, path_model)
    tuned = await resolve_model(app, org, parsed.model)
    work = len(parsed.prompts) * parsed.best_of * parsed.max_tokens
    if work > INLINE_TOKENS or (tuned is not None and completing(tuned.index)):
        choices, generated = await run_in_threadpool(_choices, encoding, app, parsed, tuned)
    else:
        choices, generated = _choices(encoding, app, parsed, tuned)
    head = {"id": completion_id(app), "object": "text_completion", "created": app.now_seconds()}
    usage = usage_object(parsed, generated)
    if parsed.stream:
        return event_stream(_stream(encoding, parsed, choices, head, usage))
    return JSONResponse(
        {
            **head,
            "model": parsed.model,
            "choices": [choice_object(encoding, parsed, c) for c in choices],
            "usage": usage,
        }
    )


@router.post("/completions")
async def create_completion(request: Request) -> Any:
    app, org = authorized(request)
    return await _complete(request, org, app, None)


@router.post("/engines/{model:path}/completions")
async def create_engine_completion(model: str, request: Request) -> Any:
    app, org = authorized(request)
    return await _complete(request, org, app, model)
