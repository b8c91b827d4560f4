"""Serving defaults and the direct path to plain routes: same answers and envelopes as FastAPI's own routing."""

from __future__ import annotations

import httpx
import pytest

from emulator import Settings, create_app
from emulator.http.fast import FastRoutes, _routes
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


def test_fast_routes_take_only_plain_routes() -> None:
    table = _routes([("/v1", models.router), ("/v1", files.router), ("/v1", fine_tunes.router), ("", control.router)])
    plain = {route.endpoint.__name__ for route in table if route.request_name is not None}
    assert {"list_models", "retrieve_model", "list_files", "retrieve_file", "list_fine_tunes"} <= plain
    # A dependency FastAPI must inject keeps the route on FastAPI's path.
    assert "list_fine_tune_events" not in plain and "get_clock" not in plain
    assert "create_completion" in {
        r.endpoint.__name__ for r in _routes([("/v1", completions.router)]) if r.request_name
    }


@pytest.fixture
def http() -> httpx.Client:
    app = create_app(Settings(memory=True))
    assert any(m.cls is FastRoutes for m in app.user_middleware)
    return in_process(app, headers={})


def test_list_models_direct_path_carries_every_header(http: httpx.Client) -> None:
    response = http.get("/models", headers=KEY)
    assert response.status_code == 200 and response.json()["data"][0]["id"] == "ada"
    assert response.headers["openai-organization"] == "personal" and response.headers["x-request-id"].startswith("req_")


def test_retrieve_model_direct_path_error_is_the_envelope(http: httpx.Client) -> None:
    response = http.get("/models/nope", headers=KEY)
    assert_error(response, 404, "The model 'nope' does not exist", param="model", code="model_not_found")
    assert response.headers["openai-version"] == "2020-10-01"


def test_direct_path_without_key_is_401(http: httpx.Client) -> None:
    response = http.get("/files")
    assert response.status_code == 401 and response.json()["error"]["type"] == "invalid_request_error"


def test_method_a_path_does_not_allow_goes_to_fastapi(http: httpx.Client) -> None:
    response = http.put("/models", headers=KEY)
    assert_error(response, 404, "Invalid URL (PUT /v1/models)")
