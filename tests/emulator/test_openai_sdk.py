"""The current openai SDK, unmodified, against ftemu: in-process (httpx2 over the ASGI app) and over uvicorn."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest
from starlette.applications import Starlette

from emulator.core.catalogue import BASE_MODELS, MODERN_MODELS
from emulator.testing import LiveServer
from tests.conftest import KEY, capitals, fast_settings, jsonl


def _files_and_models(client: openai.OpenAI, path: Path) -> dict[str, Any]:
    with path.open("rb") as handle:
        created = client.files.create(file=handle, purpose="fine-tune")
    listed = client.files.list()
    retrieved = client.files.retrieve(created.id)
    content = client.files.content(created.id).read()
    models = client.models.list()
    curie = client.models.retrieve("curie")
    deleted = client.files.delete(created.id)
    try:
        client.files.retrieve(created.id)
        missing = None
    except openai.NotFoundError as exc:
        missing = exc
    return {
        "created": created,
        "listed": listed,
        "retrieved": retrieved,
        "content": content,
        "models": models,
        "curie": curie,
        "deleted": deleted,
        "missing": missing,
    }


async def _files_and_models_async(client: openai.AsyncOpenAI, path: Path) -> dict[str, Any]:
    created = await client.files.create(file=path.read_bytes(), purpose="fine-tune")
    listed = await client.files.list()
    retrieved = await client.files.retrieve(created.id)
    content = (await client.files.content(created.id)).read()
    models = await client.models.list()
    curie = await client.models.retrieve("curie")
    deleted = await client.files.delete(created.id)
    try:
        await client.files.retrieve(created.id)
        missing = None
    except openai.NotFoundError as exc:
        missing = exc
    return {
        "created": created,
        "listed": listed,
        "retrieved": retrieved,
        "content": content,
        "models": models,
        "curie": curie,
        "deleted": deleted,
        "missing": missing,
    }


def _check(result: dict[str, Any], data: bytes) -> None:
    created = result["created"]
    assert created.id.startswith("file-") and created.bytes == len(data) and created.purpose == "fine-tune"
    assert [f.id for f in result["listed"].data] == [created.id]
    assert result["retrieved"].status == "processed"
    assert result["content"] == data
    assert [m.id for m in result["models"].data] == [*BASE_MODELS, *MODERN_MODELS]
    assert result["curie"].owned_by == "openai"
    assert result["deleted"].deleted is True
    missing = result["missing"]
    assert missing is not None and missing.status_code == 404
    assert missing.body == {
        "message": f"No such File object: {created.id}",
        "type": "invalid_request_error",
        "param": "id",
        "code": None,
    }


@pytest.fixture
def training_path(tmp_path: Path) -> Path:
    path = tmp_path / "train.jsonl"
    path.write_bytes(jsonl(capitals(10)))
    return path


def test_openai_sdk_files_and_models_in_process(make_app: Callable[..., Starlette], training_path: Path) -> None:
    app = make_app()

    async def run() -> dict[str, Any]:
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://ftemu") as http:
            client = openai.AsyncOpenAI(base_url="http://ftemu/v1", api_key=KEY, http_client=http, max_retries=0)
            return await _files_and_models_async(client, training_path)

    _check(asyncio.run(run()), training_path.read_bytes())


def test_openai_sdk_files_and_models_over_uvicorn(training_path: Path) -> None:
    with LiveServer(fast_settings()) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key=KEY, max_retries=0)
        _check(_files_and_models(client, training_path), training_path.read_bytes())


def test_openai_sdk_bad_key_is_authentication_error(tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    keys.write_text('{"sk-good-000000000000": "acme"}')
    with LiveServer(fast_settings(keys=str(keys))) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="sk-bad-0000000000000", max_retries=0)
        with pytest.raises(openai.AuthenticationError) as raised:
            client.models.list()
        assert raised.value.code == "invalid_api_key"
