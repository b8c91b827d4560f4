"""The current `openai` SDK, unmodified: client.completions.create over a socket and in-process (httpx2 ASGI)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import httpx
import httpx2
import openai
import pytest
from starlette.applications import Starlette

from emulator.testing import LiveServer
from tests.conftest import AUTH, KEY, capitals, fast_settings, in_process
from tests.emulator.legacy.test_completions import POLAND, tune


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer(fast_settings(speed="instant")) as live:
        yield live


@pytest.fixture(scope="module")
def model(server: LiveServer) -> str:
    with httpx.Client(base_url=server.base_url, headers=AUTH, timeout=30) as http:
        return tune(http, capitals(100))


@pytest.fixture
def sdk(server: LiveServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(api_key=KEY, base_url=server.base_url, max_retries=0) as client:
        yield client


def test_create_completion_sdk_returns_warsaw(sdk: openai.OpenAI, model: str) -> None:
    completion = sdk.completions.create(model=model, prompt=POLAND, stop=["\n"])
    assert completion.choices[0].text == " Warsaw"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.total_tokens == 10


def test_create_completion_sdk_streamed_returns_warsaw(sdk: openai.OpenAI, model: str) -> None:
    stream = sdk.completions.create(model=model, prompt=POLAND, stop=["\n"], stream=True)
    chunks = list(stream)
    assert "".join(chunk.choices[0].text for chunk in chunks) == " Warsaw"
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_create_completion_sdk_logprobs_and_echo(sdk: openai.OpenAI, model: str) -> None:
    completion = sdk.completions.create(model=model, prompt=POLAND, stop=["\n"], echo=True, logprobs=3)
    logprobs = completion.choices[0].logprobs
    assert completion.choices[0].text == POLAND + " Warsaw"
    assert logprobs is not None and logprobs.tokens is not None and "".join(logprobs.tokens) == POLAND + " Warsaw"


def test_create_completion_sdk_unknown_model_raises_not_found(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        sdk.completions.create(model="ada:ft-personal-2023-01-01-00-00-00", prompt="x")
    assert caught.value.code == "model_not_found"


def test_create_completion_sdk_in_process_over_asgi(make_app: Callable[..., Starlette]) -> None:
    app = make_app(speed="instant")
    tuned = tune(in_process(app), capitals(20))

    async def run() -> tuple[str, str]:
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://ftemu") as http:
            client = openai.AsyncOpenAI(api_key=KEY, base_url="http://ftemu/v1", http_client=http, max_retries=0)
            plain = await client.completions.create(model=tuned, prompt=POLAND, stop=["\n"])
            stream = await client.completions.create(model=tuned, prompt=POLAND, stop=["\n"], stream=True)
            streamed = "".join([chunk.choices[0].text async for chunk in stream])
            return plain.choices[0].text, streamed

    assert asyncio.run(run()) == (" Warsaw", " Warsaw")
