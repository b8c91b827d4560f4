"""List paging (http/pagination.py) and GET /v1/files with purpose, limit, order and after; the SDKs' auto-paging."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import httpx2
import openai
import pytest
from openai.pagination import SyncPage
from starlette.applications import Starlette
from starlette.testclient import TestClient

from emulator.core.errors import APIError
from emulator.http.pagination import PageQuery, cursor_page, page_query
from emulator.testing import LiveServer
from tests.conftest import KEY, assert_error, capitals, fast_settings, jsonl, upload

ITEMS = [f"obj-{i}" for i in range(5)]


def _page(query: PageQuery, **options: Any) -> dict[str, Any]:
    return cursor_page(ITEMS, query, id_of=str, render=lambda item: {"id": item}, **options)


def _ids(body: dict[str, Any]) -> list[str]:
    return [item["id"] for item in body["data"]]


def test_cursor_page_desc_limit_and_has_more() -> None:
    body = _page(PageQuery(after=None, limit=2, order="desc"), with_ids=True)
    assert body == {
        "object": "list",
        "data": [{"id": "obj-4"}, {"id": "obj-3"}],
        "first_id": "obj-4",
        "last_id": "obj-3",
        "has_more": True,
    }


def test_cursor_page_after_walks_to_the_end_once() -> None:
    seen: list[str] = []
    after = None
    while True:
        body = _page(PageQuery(after=after, limit=2, order="asc"))
        seen += _ids(body)
        if not body["has_more"]:
            break
        after = seen[-1]
    assert seen == ITEMS


def test_cursor_page_exact_fit_has_no_more() -> None:
    assert _page(PageQuery(after=None, limit=5, order="asc"))["has_more"] is False


def test_cursor_page_cursor_on_a_hidden_item_still_pages() -> None:
    body = _page(PageQuery(after="obj-2", limit=10, order="asc"), keep=lambda item: item != "obj-2")
    assert _ids(body) == ["obj-3", "obj-4"]


def test_cursor_page_empty_page_has_null_ids() -> None:
    body = _page(PageQuery(after="obj-4", limit=3, order="asc"), with_ids=True)
    assert (body["data"], body["first_id"], body["last_id"], body["has_more"]) == ([], None, None, False)


def test_cursor_page_unknown_cursor_is_400() -> None:
    with pytest.raises(APIError) as raised:
        _page(PageQuery(after="obj-9", limit=2, order="asc"))
    assert (raised.value.status, raised.value.param) == (400, "after")


@pytest.mark.parametrize(
    ("query", "message", "param"),
    [
        ({"limit": "0"}, "0 is less than the minimum of 1 - 'limit'", "limit"),
        ({"limit": "101"}, "101 is greater than the maximum of 100 - 'limit'", "limit"),
        ({"limit": "two"}, "'two' is not of type 'integer' - 'limit'", "limit"),
        ({"limit": "１"}, "'１' is not of type 'integer' - 'limit'", "limit"),
        ({"limit": "+-5"}, "'+-5' is not of type 'integer' - 'limit'", "limit"),
        ({"limit": "9" * 5000}, f"'{'9' * 5000}' is not of type 'integer' - 'limit'", "limit"),
        ({"limit": "1.0"}, "'1.0' is not of type 'integer' - 'limit'", "limit"),
        ({"order": "up"}, "'up' is not one of ['asc', 'desc'] - 'order'", "order"),
    ],
)
def test_page_query_refuses_bad_values(query: dict[str, str], message: str, param: str) -> None:
    with pytest.raises(APIError) as raised:
        page_query(query, default_limit=20, max_limit=100)
    assert (raised.value.status, raised.value.message, raised.value.param) == (400, message, param)


def test_page_query_defaults_and_fixed_order() -> None:
    assert page_query({}, default_limit=20, max_limit=100) == PageQuery(None, 20, "desc")
    assert page_query({"limit": " +7 "}, default_limit=20, max_limit=100).limit == 7
    fixed = page_query({"order": "asc"}, default_limit=20, max_limit=100, order_param=False)
    assert fixed.order == "desc"


def _upload_many(http: httpx.Client, count: int) -> list[str]:
    return [upload(http, capitals(1 + i % 3), name=f"t{i}.jsonl")["id"] for i in range(count)]


def test_list_files_limit_two_has_more(client: httpx.Client) -> None:
    ids = _upload_many(client, 3)
    body = client.get("/files", params={"limit": 2}).json()
    assert _ids(body) == [ids[2], ids[1]] and body["has_more"] is True
    assert (body["first_id"], body["last_id"]) == (ids[2], ids[1])
    rest = client.get("/files", params={"limit": 2, "after": ids[1]}).json()
    assert _ids(rest) == [ids[0]] and rest["has_more"] is False


def test_list_files_order_asc_after(client: httpx.Client) -> None:
    ids = _upload_many(client, 4)
    body = client.get("/files", params={"order": "asc", "after": ids[1]}).json()
    assert _ids(body) == ids[2:]


def test_list_files_purpose_filter(client: httpx.Client) -> None:
    ids = _upload_many(client, 2)
    assert _ids(client.get("/files", params={"purpose": "fine-tune"}).json()) == ids[::-1]
    empty = client.get("/files", params={"purpose": "fine-tune-results"}).json()
    assert empty == {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}


def test_list_files_after_a_deleted_file_still_pages(client: httpx.Client) -> None:
    ids = _upload_many(client, 3)
    client.delete(f"/files/{ids[1]}")
    assert _ids(client.get("/files", params={"after": ids[1]}).json()) == [ids[0]]


def test_list_files_after_unknown_id_is_400(client: httpx.Client) -> None:
    assert_error(
        client.get("/files", params={"after": "file-nope"}),
        400,
        "No object with id 'file-nope' to page after.",
        param="after",
    )


# The current openai SDK pages with `after=<last id>` until `has_more` is false: 25 files, each seen once.
COUNT = 25


def _iterate(client: openai.OpenAI) -> dict[str, list[str]]:
    return {
        "default": [f.id for f in client.files.list()],
        "limit 4": [f.id for f in client.files.list(limit=4)],
        "limit 4 asc": [f.id for f in client.files.list(limit=4, order="asc")],
    }


async def _iterate_async(client: openai.AsyncOpenAI) -> dict[str, list[str]]:
    return {
        "default": [f.id async for f in client.files.list()],
        "limit 4": [f.id async for f in client.files.list(limit=4)],
        "limit 4 asc": [f.id async for f in client.files.list(limit=4, order="asc")],
    }


def _check(seen: dict[str, list[str]], uploaded: list[str]) -> None:
    assert seen == {"default": uploaded[::-1], "limit 4": uploaded[::-1], "limit 4 asc": uploaded}


@pytest.fixture
def filled(make_app: Callable[..., Starlette]) -> tuple[Starlette, list[str]]:
    app = make_app()
    http = TestClient(app, base_url="http://ftemu/v1", headers={"Authorization": f"Bearer {KEY}"})
    return app, _upload_many(http, COUNT)


def test_openai_sdk_files_list_iterates_once_in_process_sync(filled: tuple[Starlette, list[str]]) -> None:
    app, uploaded = filled
    http = TestClient(app, base_url="http://ftemu/v1")
    client = openai.OpenAI(base_url="http://ftemu/v1", api_key=KEY, http_client=http, max_retries=0)
    _check(_iterate(client), uploaded)


def test_openai_sdk_files_list_iterates_once_in_process_async(filled: tuple[Starlette, list[str]]) -> None:
    app, uploaded = filled

    async def run() -> dict[str, list[str]]:
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://ftemu") as http:
            client = openai.AsyncOpenAI(base_url="http://ftemu/v1", api_key=KEY, http_client=http, max_retries=0)
            return await _iterate_async(client)

    _check(asyncio.run(run()), uploaded)


@pytest.fixture(scope="module")
def filled_server() -> Iterator[tuple[LiveServer, list[str]]]:
    with LiveServer(fast_settings()) as server:
        http = httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {KEY}"})
        uploaded = _upload_many(http, COUNT)
        http.close()
        yield server, uploaded


def test_openai_sdk_files_list_iterates_once_over_uvicorn_sync(filled_server: tuple[LiveServer, list[str]]) -> None:
    server, uploaded = filled_server
    with openai.OpenAI(base_url=server.base_url, api_key=KEY, max_retries=0) as client:
        _check(_iterate(client), uploaded)


def test_openai_sdk_files_list_iterates_once_over_uvicorn_async(filled_server: tuple[LiveServer, list[str]]) -> None:
    server, uploaded = filled_server

    async def run() -> dict[str, list[str]]:
        async with openai.AsyncOpenAI(base_url=server.base_url, api_key=KEY, max_retries=0) as client:
            return await _iterate_async(client)

    _check(asyncio.run(run()), uploaded)


def test_openai_sdk_models_list_ends(filled_server: tuple[LiveServer, list[str]]) -> None:
    server, _ = filled_server
    with openai.OpenAI(base_url=server.base_url, api_key=KEY, max_retries=0) as client:
        ids = [m.id for m in client.models.list()]
    assert ids[:4] == ["ada", "babbage", "curie", "davinci"] and "gpt-4o-mini-2024-07-18" in ids
    assert len(ids) == len(set(ids))


def test_openai_sdk_legacy_lists_end(client: httpx.Client) -> None:
    """/fine-tunes and its events are unpaged in the legacy spec: the SDKs' SyncPage reads them in one request."""
    file_id = upload(client, capitals(3))["id"]
    jobs = [client.post("/fine-tunes", json={"training_file": file_id, "model": "ada"}).json()["id"] for _ in range(3)]
    sdk = openai.OpenAI(
        base_url=str(client.base_url),
        api_key=KEY,
        http_client=client,
        max_retries=0,  # type: ignore[arg-type]
    )
    listed = [item["id"] for item in sdk.get_api_list("/fine-tunes", model=dict, page=SyncPage[dict[str, Any]])]
    assert listed == jobs
    events = list(sdk.get_api_list(f"/fine-tunes/{jobs[0]}/events", model=dict, page=SyncPage[dict[str, Any]]))
    assert [event["message"] for event in events] == [f"Created fine-tune: {jobs[0]}"]
    body = client.get("/fine-tunes").json()
    assert list(body) == ["object", "data"]


def test_list_files_bytes_match_jsonl(client: httpx.Client) -> None:
    data = jsonl(capitals(2))
    file_id = upload(client, data)["id"]
    assert client.get("/files", params={"limit": 1}).json()["data"][0] == client.get(f"/files/{file_id}").json()
