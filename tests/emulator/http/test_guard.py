"""http/middleware.Guard: a crash is the envelope's 500 on a connection that stays usable; HEAD runs GET; bad paths."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request

from emulator.core.errors import SERVER_ERROR
from emulator.http.routing import Router, route_table
from emulator.testing import LiveServer
from tests.conftest import AUTH, assert_error, fast_settings


def _crash_route(app: Starlette) -> None:
    """GET /v1/crash raises, appended to the app's route table."""
    router = Router()

    @router.get("/v1/crash")
    async def crash(request: Request) -> None:
        raise RuntimeError("a bug")

    app.state.routes.extend(route_table([("", router)]))


def test_crash_is_a_500_and_the_keep_alive_connection_still_works() -> None:
    """20 crashes interleaved with 20 good requests on one pooled connection: every one answered (the second
    request after a crash failed before, as uvicorn dropped the connection without `Connection: close`)."""
    server = LiveServer(fast_settings())
    _crash_route(server.app)
    opened: list[Any] = []
    with server, httpx.Client(base_url=server.base_url, headers=AUTH, limits=httpx.Limits(max_connections=1)) as http:
        for _ in range(20):
            crashed = http.get("/crash", extensions={"trace": lambda name, info: opened.append(name)})
            assert_error(crashed, 500, SERVER_ERROR, type="server_error")
            assert crashed.headers.get("connection", "") != "close"
            assert http.get("/models").status_code == 200
    assert opened.count("connection.connect_tcp.started") == 1


def test_crash_in_process_is_the_envelope(make_app: Callable[..., Starlette]) -> None:
    app = make_app()
    _crash_route(app)

    async def run() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ftemu/v1", headers=AUTH) as http:
            return await http.get("/crash")

    assert_error(asyncio.run(run()), 500, SERVER_ERROR, type="server_error")


def test_head_on_get_routes(client: httpx.Client) -> None:
    for path in ("/models", "/models/curie", "/files"):
        got, head = client.get(path), client.head(path)
        assert (head.status_code, head.content) == (200, b"")
        assert head.headers["content-length"] == got.headers["content-length"]
        assert head.headers["content-type"] == "application/json"
        assert head.headers["openai-organization"] == got.headers["openai-organization"]


def test_head_on_an_unknown_path_names_head(client: httpx.Client) -> None:
    response = client.head("/nope")
    assert response.status_code == 404 and response.content == b""
    assert client.head("/files/file-x").status_code == 404


def test_path_with_a_lone_surrogate_is_400(make_app: Callable[..., Starlette]) -> None:
    """No HTTP client can send one (percent-decoding replaces it), but an ASGI scope can carry it."""
    app = make_app()
    sent: list[dict[str, Any]] = []

    async def run() -> None:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/v1/files/\ud800",
            "raw_path": b"/v1/files/%ED%A0%80",
            "query_string": b"",
            "headers": [(b"authorization", AUTH["Authorization"].encode())],
            "client": ("127.0.0.1", 1),
            "server": ("ftemu", 80),
        }

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await app(scope, receive, send)

    asyncio.run(run())
    assert sent[0]["status"] == 400
    assert b"The URL path is not valid UTF-8." in sent[1]["body"]
