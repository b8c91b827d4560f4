"""Chat answers against the official current spec: responses and stream chunks validate, and so do JSON answers."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from conformance.schema import Spec, load_spec
from emulator import create_app
from emulator.inference.json_answers import instance
from tests.conftest import fast_settings, in_process
from tests.emulator.v1.chat_support import (
    FACTS,
    WEATHER_TOOL,
    add_tuned_model,
    conversation,
    marv_examples,
    weather_examples,
)

SPEC_DIR = Path(os.environ.get("FTEMU_SPEC_DIR") or Path(__file__).resolve().parents[4] / "shared/reference/openapi")
CURRENT = SPEC_DIR / "openapi-current.yaml"
pytestmark = pytest.mark.skipif(not CURRENT.is_file(), reason="official spec not available")


@pytest.fixture(scope="module")
def spec() -> Spec:
    return Spec(CURRENT, load_spec(CURRENT, legacy_only=False))


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[httpx.Client, Starlette]]:
    app = create_app(fast_settings())
    yield in_process(app), app
    app.state.core.close()


def requests(app: Starlette) -> list[dict[str, Any]]:
    marv = add_tuned_model(app, marv_examples())
    weather = add_tuned_model(app, weather_examples(), suffix="weather", job="ftjob-weather", short_id="Wx12Wx12")
    question = [{"role": "user", "content": "What is the weather like in Paris, France?"}]
    return [
        {"model": marv, "messages": conversation(FACTS[0][0]), "logprobs": True, "top_logprobs": 3},
        {"model": weather, "tools": [WEATHER_TOOL], "messages": question},
        {"model": "gpt-4o", "n": 2, "max_completion_tokens": 5, "messages": question},
        {"model": "gpt-4o", "tools": [WEATHER_TOOL], "tool_choice": "required", "messages": question},
    ]


def test_chat_completions_and_chunks_validate_against_the_current_spec(
    spec: Spec, served: tuple[httpx.Client, Starlette]
) -> None:
    http, app = served
    for body in requests(app):
        spec.validate_component("CreateChatCompletionResponse", http.post("/chat/completions", json=body).json(), "")
        stream = {**body, "stream": True, "stream_options": {"include_usage": True}}
        blocks = http.post("/chat/completions", json=stream).text.split("\n\n")
        chunks = [json.loads(block[6:]) for block in blocks if block.startswith("data: {")]
        assert len(chunks) > 3
        for chunk in chunks:
            spec.validate_component("CreateChatCompletionStreamResponse", chunk, "chunk")


SCALARS = st.sampled_from(
    [
        {"type": "string"},
        {"type": "integer", "minimum": 0, "maximum": 10},
        {"type": "number"},
        {"type": "boolean"},
        {"type": "null"},
        {"type": "string", "enum": ["red", "green"]},
        {"const": "fixed"},
    ]
)
SCHEMAS = st.recursive(
    SCALARS,
    lambda inner: (
        st.builds(lambda items: {"type": "array", "items": items, "maxItems": 3}, inner)
        | st.builds(
            lambda props: {
                "type": "object",
                "properties": props,
                "required": list(props),
                "additionalProperties": False,
            },
            st.dictionaries(st.text("abcdefgh", min_size=1, max_size=5), inner, max_size=4),
        )
        | st.builds(lambda a, b: {"anyOf": [a, b]}, inner, inner)
    ),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(schema=SCHEMAS, seed=st.integers(0, 2**32))
def test_json_answers_validate_against_their_schema(schema: dict[str, Any], seed: int) -> None:
    jsonschema.validate(instance(random.Random(seed), schema), schema)


def test_json_schema_answer_with_defs_validates(served: tuple[httpx.Client, Starlette]) -> None:
    http, _ = served
    schema = {
        "type": "object",
        "properties": {"people": {"type": "array", "items": {"$ref": "#/$defs/person"}}},
        "required": ["people"],
        "additionalProperties": False,
        "$defs": {
            "person": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "age": {"type": ["integer", "null"]}},
                "required": ["name", "age"],
                "additionalProperties": False,
            }
        },
    }
    response_format = {"type": "json_schema", "json_schema": {"name": "people", "schema": schema, "strict": True}}
    for seed in range(5):
        body = {
            "model": "gpt-4.1",
            "seed": seed,
            "response_format": response_format,
            "messages": [{"role": "user", "content": "x"}],
        }
        answer = http.post("/chat/completions", json=body).json()["choices"][0]["message"]["content"]
        jsonschema.validate(json.loads(answer), schema)
