"""The chat namespace: `client.chat.completions.create(...)` over POST /chat/completions, plain or streamed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal, TypedDict, cast, overload

from client._http import Transport
from client.resources import _chunks as event_chunks


class ChatMessage(TypedDict, total=False):
    role: str
    content: str | None
    refusal: str | None
    annotations: list[Any]
    tool_calls: list[dict[str, Any]]


class ChatChoice(TypedDict, total=False):
    index: int
    message: ChatMessage
    delta: dict[str, Any]
    logprobs: dict[str, Any] | None
    finish_reason: str | None


class ChatCompletion(TypedDict, total=False):
    """A `chat.completion`, or one `chat.completion.chunk` of a stream (choices carry `delta` there)."""

    id: str
    object: str
    created: int
    model: str
    choices: list[ChatChoice]
    usage: dict[str, Any] | None
    service_tier: str | None
    system_fingerprint: str | None


class ChatCompletions:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    @overload
    def create(
        self, model: str, messages: list[dict[str, Any]], *, stream: Literal[False] = ..., **params: Any
    ) -> ChatCompletion: ...

    @overload
    def create(
        self, model: str, messages: list[dict[str, Any]], *, stream: Literal[True], **params: Any
    ) -> Iterator[ChatCompletion]: ...

    def create(
        self, model: str, messages: list[dict[str, Any]], *, stream: bool = False, **params: Any
    ) -> ChatCompletion | Iterator[ChatCompletion]:
        """POST /chat/completions; `stream=True` yields the chunks (None-valued params are left out)."""
        body: dict[str, Any] = {"model": model, "messages": messages}
        body.update({key: value for key, value in params.items() if value is not None})
        if not stream:
            return cast(ChatCompletion, self._t.request("POST", "chat/completions", json=body))
        body["stream"] = True
        return cast(Iterator[ChatCompletion], event_chunks(self._t.open_stream("POST", "chat/completions", json=body)))


class Chat:
    """`client.chat.completions`, as the openai SDK spells it."""

    def __init__(self, transport: Transport) -> None:
        self.completions = ChatCompletions(transport)
