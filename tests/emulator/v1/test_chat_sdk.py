"""The current `openai` SDK, unmodified: chat.completions.create sync and async, in-process and over a socket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx2
import jsonschema
import openai
import pytest
from starlette.applications import Starlette

from emulator.core.tokens import o200k_base
from emulator.testing import LiveServer
from tests.conftest import KEY, fast_settings
from tests.emulator.core.test_tokens_modern import chat_tokens
from tests.emulator.v1.chat_support import (
    FACTS,
    WEATHER_TOOL,
    add_tuned_model,
    conversation,
    marv_examples,
    weather_examples,
)

SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "population": {"type": "integer", "minimum": 0}},
    "required": ["city", "population"],
    "additionalProperties": False,
}


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer(fast_settings()) as live:
        yield live


def models(app: Starlette) -> tuple[str, str]:
    marv = add_tuned_model(app, marv_examples())
    weather = add_tuned_model(app, weather_examples(), suffix="weather", job="ftjob-weather", short_id="Wx12Wx12")
    return marv, weather


def check_sync(client: openai.OpenAI, marv: str, weather: str) -> None:
    messages: Any = conversation(FACTS[0][0])
    completion = client.chat.completions.create(model=marv, messages=messages)
    assert completion.choices[0].message.content == FACTS[0][1]
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == chat_tokens(o200k_base(), messages)
    assert completion.usage.completion_tokens == len(o200k_base().encode(FACTS[0][1]))
    stream = client.chat.completions.create(
        model=marv, messages=messages, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == FACTS[0][1]
    assert chunks[-1].choices == [] and chunks[-1].usage == completion.usage
    three = client.chat.completions.create(model="gpt-4o-mini", n=3, messages=[{"role": "user", "content": "Hi"}])
    assert len({choice.message.content for choice in three.choices}) == 3
    question: Any = [{"role": "user", "content": "What is the weather like in Boston, MA?"}]
    tools: Any = [WEATHER_TOOL]
    called = client.chat.completions.create(model=weather, messages=question, tools=tools)
    assert called.choices[0].finish_reason == "tool_calls"
    call: Any = called.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert call.function.name == "get_current_weather"
    assert json.loads(call.function.arguments) == {"location": "Boston, MA", "unit": "celsius"}
    response_format: Any = {"type": "json_schema", "json_schema": {"name": "city", "schema": SCHEMA, "strict": True}}
    structured = client.chat.completions.create(model="gpt-4o", messages=question, response_format=response_format)
    jsonschema.validate(json.loads(structured.choices[0].message.content or ""), SCHEMA)


async def check_async(client: openai.AsyncOpenAI, marv: str, weather: str) -> None:
    messages: Any = conversation(FACTS[4][0])
    completion = await client.chat.completions.create(model=marv, messages=messages)
    assert completion.choices[0].message.content == FACTS[4][1]
    stream = await client.chat.completions.create(
        model=marv, messages=messages, stream=True, stream_options={"include_usage": True}
    )
    chunks = [chunk async for chunk in stream]
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == FACTS[4][1]
    assert chunks[-1].usage == completion.usage
    question: Any = [{"role": "user", "content": "What is the weather like in Tokyo, Japan?"}]
    tools: Any = [WEATHER_TOOL]
    called = await client.chat.completions.create(model=weather, messages=question, tools=tools)
    call: Any = called.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert json.loads(call.function.arguments)["location"] == "Tokyo, Japan"
    with pytest.raises(openai.NotFoundError) as raised:
        await client.chat.completions.create(model="davinci-002", messages=question)
    assert raised.value.body["param"] == "model"  # type: ignore[index]


def test_chat_sdk_sync_over_uvicorn(server: LiveServer) -> None:
    marv, weather = models(server.app)
    with openai.OpenAI(api_key=KEY, base_url=server.base_url, max_retries=0) as client:
        check_sync(client, marv, weather)


def test_chat_sdk_async_over_uvicorn(server: LiveServer) -> None:
    marv, weather = (
        add_tuned_model(server.app, marv_examples(), short_id="As12As12"),
        add_tuned_model(server.app, weather_examples(), suffix="weather", job="ftjob-weather2", short_id="Aw12Aw12"),
    )

    async def run() -> None:
        async with openai.AsyncOpenAI(api_key=KEY, base_url=server.base_url, max_retries=0) as client:
            await check_async(client, marv, weather)

    asyncio.run(run())


def test_chat_sdk_sync_in_process(app: Starlette) -> None:
    marv, weather = models(app)
    http = httpx2.Client(transport=_SyncOverASGI(app), base_url="http://ftemu")
    with openai.OpenAI(api_key=KEY, base_url="http://ftemu/v1", http_client=http, max_retries=0) as client:
        check_sync(client, marv, weather)


def test_chat_sdk_async_in_process(app: Starlette) -> None:
    marv, weather = models(app)

    async def run() -> None:
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://ftemu") as http:
            client = openai.AsyncOpenAI(base_url="http://ftemu/v1", api_key=KEY, http_client=http, max_retries=0)
            await check_async(client, marv, weather)

    asyncio.run(run())


class _SyncOverASGI(httpx2.BaseTransport):
    """The sync SDK in-process: each request runs the async ASGI transport to completion (no socket)."""

    def __init__(self, app: Starlette) -> None:
        self._asgi = httpx2.ASGITransport(app=app)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        async def run() -> tuple[int, Any, bytes]:
            request.read()
            response = await self._asgi.handle_async_request(request)
            body = b"".join([part async for part in response.aiter_raw()])
            return response.status_code, response.headers, body

        status, headers, body = asyncio.run(run())
        return httpx2.Response(status, headers=headers, content=body, request=request)
