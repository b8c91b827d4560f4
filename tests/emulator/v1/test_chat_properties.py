"""Properties of chat answers: streams join to the plain text, stop and the token budget hold, seeds repeat."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator import create_app
from emulator.core.tokens import encoding_for_model
from tests.conftest import fast_settings, in_process
from tests.emulator.v1.chat_support import FACTS, SYSTEM, add_tuned_model, marv_examples

MODELS = ["gpt-4o-mini", "gpt-3.5-turbo", "gpt-4.1-nano"]


@pytest.fixture(scope="module")
def setup() -> Iterator[tuple[httpx.Client, list[str]]]:
    app = create_app(fast_settings())
    tuned = add_tuned_model(app, marv_examples())
    yield in_process(app), [*MODELS, tuned]
    app.state.core.close()


def questions() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from([q for q, _ in FACTS]), st.text(min_size=1, max_size=60))


@st.composite
def requests(draw: st.DrawFn, models: list[str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": draw(st.sampled_from(models)),
        "messages": [SYSTEM, {"role": "user", "content": draw(questions())}],
        "seed": draw(st.integers(0, 2**31)),
        "n": draw(st.integers(1, 3)),
        "temperature": draw(st.sampled_from([0, 0.7, 1, 2])),
    }
    if draw(st.booleans()):
        body["max_completion_tokens"] = draw(st.integers(1, 40))
    if draw(st.booleans()):
        body["stop"] = draw(st.lists(st.text(min_size=1, max_size=3), min_size=1, max_size=4))
    return body


def post(http: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = http.post("/chat/completions", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def texts(result: dict[str, Any]) -> list[str]:
    return [choice["message"]["content"] for choice in result["choices"]]


def streamed(http: httpx.Client, body: dict[str, Any]) -> list[str]:
    raw = http.post("/chat/completions", json={**body, "stream": True}).text
    joined = [""] * body["n"]
    for block in raw.split("\n\n"):
        if block.startswith("data: {"):
            for choice in json.loads(block[6:])["choices"]:
                joined[choice["index"]] += choice["delta"].get("content") or ""
    return joined


PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@PROPERTY
@given(data=st.data())
def test_streamed_deltas_join_to_the_plain_text(setup: tuple[httpx.Client, list[str]], data: st.DataObject) -> None:
    http, models = setup
    body = data.draw(requests(models))
    assert streamed(http, body) == texts(post(http, body))


@PROPERTY
@given(data=st.data())
def test_stop_never_appears_in_the_output(setup: tuple[httpx.Client, list[str]], data: st.DataObject) -> None:
    http, models = setup
    body = data.draw(requests(models))
    body["stop"] = data.draw(
        st.lists(st.sampled_from(["a", "e", " the", ".", ",", "Paris", "\n"]), min_size=1, max_size=4)
    )
    for text in texts(post(http, body)):
        assert not any(stop in text for stop in body["stop"])


@PROPERTY
@given(data=st.data())
def test_max_completion_tokens_is_never_exceeded(setup: tuple[httpx.Client, list[str]], data: st.DataObject) -> None:
    http, models = setup
    body = data.draw(requests(models))
    limit = body["max_completion_tokens"] = data.draw(st.integers(1, 30))
    result = post(http, body)
    encoding = encoding_for_model(body["model"])
    for choice, text in zip(result["choices"], texts(result), strict=True):
        if not body.get("stop"):  # a stop sequence may cut inside a token, leaving text that re-encodes longer
            assert len(encoding.encode(text, allowed_special="all")) <= limit
        assert choice["finish_reason"] in ("stop", "length")
    assert result["usage"]["completion_tokens"] <= limit * body["n"]


@PROPERTY
@given(data=st.data())
def test_same_request_and_seed_same_answer(setup: tuple[httpx.Client, list[str]], data: st.DataObject) -> None:
    http, models = setup
    body = data.draw(requests(models))
    first, second = post(http, body), post(http, body)
    assert texts(first) == texts(second) and first["usage"] == second["usage"]


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 200)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
FIELDS = ["messages", "model", "n", "stop", "temperature", "top_p", "seed", "logprobs", "top_logprobs", "stream"]
FIELDS += ["stream_options", "response_format", "tools", "tool_choice", "parallel_tool_calls", "metadata", "store"]
FIELDS += ["user", "max_tokens", "max_completion_tokens"]


@st.composite
def bodies(draw: st.DrawFn) -> dict[str, Any]:
    """A valid-looking request with a few fields replaced by arbitrary JSON."""
    body: dict[str, Any] = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi json"}]}
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=3, unique=True)):
        body[name] = draw(JSON)
    return body


@PROPERTY
@given(body=bodies())
def test_arbitrary_bodies_get_an_answer_or_the_envelope(setup: tuple[httpx.Client, list[str]], body: Any) -> None:
    http, _ = setup
    response = http.post("/chat/completions", json=body)
    assert response.status_code in (200, 400, 404), response.text
    if response.status_code != 200:
        assert list(response.json()["error"]) == ["message", "type", "param", "code"]
