"""POST /v1/chat/completions: base chat models and models tuned by fine-tuning jobs, plain or streamed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import tiktoken
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from emulator.core import ids
from emulator.core.catalogue import BASE_MODELS, ModernModel, modern_model, snapshot_of
from emulator.core.container import Core
from emulator.core.errors import APIError, invalid_request, not_found
from emulator.core.tokens import encoding_named
from emulator.http import params
from emulator.http.deps import authorized, json_response
from emulator.http.routing import Router
from emulator.http.sse import event_stream
from emulator.inference.chat_answers import ChatChoice, ChatSpec, answer
from emulator.inference.chat_knowledge import ChatKnowledge, is_job_model
from emulator.inference.chat_prompt import conversation_key, prompt_tokens
from emulator.inference.kept import completing
from emulator.store import Organization
from emulator.v1.chat_objects import choice_object, completion_object, stream_events, usage_object
from emulator.v1.chat_params import ChatRequest, parse_chat_request

router = Router()
# Above this many tokens to generate, the work moves off the event loop.
INLINE_TOKENS = 4096
CHAT_IDS = 0x63686174  # "chat": chat ids are drawn from a sequence apart from the `cmpl-` ids
NOT_CHAT = (
    "This is not a chat model and thus not supported in the v1/chat/completions endpoint. "
    "Did you mean to use v1/completions?"
)


@dataclass(frozen=True)
class ChatModel:
    """What answers a request: the echoed name, the base snapshot and a tuned model's knowledge."""

    name: str
    base: ModernModel
    knowledge: ChatKnowledge | None


def model_not_found(model: str) -> APIError:
    return not_found(f"The model `{model}` does not exist or you do not have access to it.", code="model_not_found")


def not_a_chat_model() -> APIError:
    return not_found(NOT_CHAT, param="model")


async def resolve_chat_model(app: Core, org: Organization, name: str) -> ChatModel:
    """A base chat model (echoed as its snapshot) or the organisation's tuned chat model; 404 otherwise."""
    if not name.startswith("ft:"):
        base = modern_model(name)
        if base is None:
            raise not_a_chat_model() if name in BASE_MODELS else model_not_found(name)
        if base.kind != "chat":
            raise not_a_chat_model()
        return ChatModel(snapshot_of(base).id, snapshot_of(base), None)
    app.catch_up(org)
    record = app.store.get_model(org.id, name)
    base = modern_model(record.root) if record is not None else None
    if record is None or base is None or app.outcomes.model_not_ready(record, app.now()):
        raise model_not_found(name)
    if base.kind != "chat" or not is_job_model(record):
        raise not_a_chat_model()
    knowledge = app.chat_models.cached(app.store, record)
    if knowledge is None:
        knowledge = await run_in_threadpool(app.chat_models.knowledge, app.store, record)
    return ChatModel(name, snapshot_of(base), knowledge)


def context_exceeded(window: int, messages: int, completion: int) -> APIError:
    return invalid_request(
        f"This model's maximum context length is {window} tokens. However, you requested {messages + completion} "
        f"tokens ({messages} in the messages, {completion} in the completion). Please reduce the length of the "
        "messages or completion.",
        "messages",
        "context_length_exceeded",
    )


def budget(model: ChatModel, request: ChatRequest, used: int) -> int:
    """The completion tokens allowed: the request's limit, else what the context window leaves."""
    window = model.base.context_window
    if request.max_tokens is not None:
        if used + request.max_tokens > window:
            raise context_exceeded(window, used, request.max_tokens)
        return request.max_tokens
    if used >= window:
        raise context_exceeded(window, used, 0)
    return window - used


def make_choices(
    encoding: tiktoken.Encoding, spec: ChatSpec, knowledge: ChatKnowledge | None, n: int
) -> list[ChatChoice]:
    return [answer(encoding, spec, knowledge, index) for index in range(n)]


def chat_completion_id(app: Core) -> str:
    """Not stored: the seed and this instance's count of completions (a namespace apart from `cmpl-`)."""
    return "chatcmpl-" + ids.draw(app.store.seed ^ CHAT_IDS, next(app.completion_counter), length=29)


async def create_chat_completion_for(app: Core, org: Organization, body: dict[str, Any]) -> Any:
    request = parse_chat_request(body)
    model = await resolve_chat_model(app, org, request.model)
    encoding = encoding_named(model.base.encoding)
    used = prompt_tokens(encoding, request.messages, request.tools or None)
    spec = ChatSpec(
        seed=app.store.seed if request.seed is None else request.seed,
        model=model.name,
        key=conversation_key(request.messages),
        temperature=request.temperature,
        max_tokens=budget(model, request, used),
        stop=request.stop,
        response_format=request.response_format,
        tools=request.tools,
        tool_choice=request.tool_choice,
        parallel_tool_calls=request.parallel_tool_calls,
        logprobs=request.logprobs,
    )
    waits = model.knowledge is not None and completing(model.knowledge.index)
    if waits or request.n * min(spec.max_tokens, INLINE_TOKENS) > INLINE_TOKENS:
        choices = await run_in_threadpool(make_choices, encoding, spec, model.knowledge, request.n)
    else:
        choices = make_choices(encoding, spec, model.knowledge, request.n)
    head = {
        "id": chat_completion_id(app),
        "object": "chat.completion",
        "created": app.now_seconds(),
        "model": model.name,
    }
    usage = usage_object(used, sum(choice.completion_tokens for choice in choices))
    if request.stream:
        head["object"] = "chat.completion.chunk"
        events = stream_events(
            encoding, head, choices, usage if request.include_usage else None, request.logprobs, request.top_logprobs
        )
        return event_stream(events)
    objects = [choice_object(encoding, choice, request.logprobs, request.top_logprobs) for choice in choices]
    return json_response(completion_object(head, objects, usage))


@router.post("/chat/completions")
async def create_chat_completion(request: Request) -> Any:
    app, org = authorized(request)
    return await create_chat_completion_for(app, org, await params.json_body(request))
