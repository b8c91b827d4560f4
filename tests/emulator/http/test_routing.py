"""Serving defaults and the route table: every endpoint a coroutine of the request and its path strings."""

from __future__ import annotations

import httpx
import pytest
from starlette.requests import Request

from emulator import Settings, create_app
from emulator.http.routing import Router, Routes, route_table
from emulator.legacy import completions, fine_tunes
from emulator.resources import control, files, models
from emulator.server import uvicorn_options
from emulator.settings import load_settings
from tests.conftest import assert_error, in_process

KEY = {"Authorization": "Bearer sk-test"}


def test_serve_defaults_to_uvloop_httptools_when_installed_and_no_access_log() -> None:
    options = uvicorn_options(Settings(memory=True))
    assert options["loop"] == "auto" and options["http"] == "auto" and options["access_log"] is False
    assert uvicorn_options(load_settings(environ={"FTEMU_ACCESS_LOG": "1"}))["access_log"] is True


def test_route_table_keeps_declaration_order_and_prefixes() -> None:
    table = route_table(
        [("/v1", models.router), ("/v1", files.router), ("/v1", fine_tunes.router), ("", control.router)]
    )
    names = [route.endpoint.__name__ for route in table]
    assert names.index("list_models") < names.index("list_files") < names.index("list_fine_tunes")
    assert {"/v1/models", "/v1/fine-tunes/{fine_tune_id}/events", "/_emulator/clock"} <= {r.path for r in table}
    engines = next(r for r in route_table([("/v1", completions.router)]) if "engines" in r.path)
    assert engines.match("/v1/engines/curie:ft-acme-2023/completions") == {"model": "curie:ft-acme-2023"}


def test_router_refuses_an_endpoint_it_could_not_call() -> None:
    router = Router()

    async def wrong_name(request: Request, name: str) -> dict[str, str]:
        return {}

    def not_a_coroutine(request: Request) -> dict[str, str]:
        return {}

    with pytest.raises(TypeError, match="wrong_name"):
        router.get("/things/{thing_id}")(wrong_name)
    with pytest.raises(TypeError, match="not_a_coroutine"):
        router.get("/things")(not_a_coroutine)  # type: ignore[arg-type]
    assert router.routes == []


@pytest.fixture
def http() -> httpx.Client:
    app = create_app(Settings(memory=True))
    assert any(m.cls is Routes for m in app.user_middleware)
    return in_process(app, headers={})


def test_list_models_carries_every_header(http: httpx.Client) -> None:
    response = http.get("/models", headers=KEY)
    assert response.status_code == 200 and response.json()["data"][0]["id"] == "ada"
    assert response.headers["openai-organization"] == "personal" and response.headers["x-request-id"].startswith("req_")


def test_retrieve_model_error_is_the_envelope(http: httpx.Client) -> None:
    response = http.get("/models/nope", headers=KEY)
    assert_error(response, 404, "The model 'nope' does not exist", param="model", code="model_not_found")
    assert response.headers["openai-version"] == "2020-10-01"


def test_route_without_key_is_401(http: httpx.Client) -> None:
    response = http.get("/files")
    assert response.status_code == 401 and response.json()["error"]["type"] == "invalid_request_error"


def test_method_a_path_does_not_allow_is_the_invalid_url_envelope(http: httpx.Client) -> None:
    response = http.put("/models", headers=KEY)
    assert_error(response, 404, "Invalid URL (PUT /v1/models)")


def test_unknown_path_and_head_on_a_get_route(http: httpx.Client) -> None:
    assert_error(http.get("/nothing-here", headers=KEY), 404, "Invalid URL (GET /v1/nothing-here)")
    head = http.head("/models", headers=KEY)
    assert head.status_code == 200 and head.content == b"" and int(head.headers["content-length"]) > 0
