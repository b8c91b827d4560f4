"""A modern job's tokens are the cookbook's count, whichever process counts them: texts flattened out of each
line (strings, parts' texts, other values as JSON) and counted in line order give the direct recursive count."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from emulator.core import counting
from emulator.core.tokens import encoding_named
from emulator.v1.create import message_tokens
from tests.conftest import in_process, upload
from tests.emulator.legacy.lifecycle import advance
from tests.emulator.v1.support import jsonl

ENCODING = encoding_named("o200k_base")


def reference_value(value: Any) -> int:
    """The count of one message value, written directly (recursion into parts' texts)."""
    if isinstance(value, str):
        return len(ENCODING.encode_ordinary(value))
    if isinstance(value, list):
        return sum(reference_value(part.get("text", "")) for part in value if isinstance(part, dict))
    return len(ENCODING.encode_ordinary(json.dumps(value))) if value is not None else 0


def reference(messages: list[dict[str, Any]]) -> int:
    total = 3
    for message in messages:
        total += 3
        for key, value in message.items():
            if key != "weight":
                total += reference_value(value) + (1 if key == "name" else 0)
    return total


texts = st.text(max_size=30)
parts = st.lists(
    st.fixed_dictionaries({"type": st.just("text"), "text": texts}) | st.fixed_dictionaries({"type": texts}),
    max_size=3,
)
calls = st.lists(st.fixed_dictionaries({"id": texts, "function": st.fixed_dictionaries({"name": texts})}), max_size=2)
messages = st.lists(
    st.fixed_dictionaries(
        {"role": st.sampled_from(["system", "user", "assistant"]), "content": texts | parts | st.none()},
        optional={"name": texts, "weight": st.sampled_from([0, 1]), "tool_calls": calls},
    ),
    max_size=4,
)


@settings(max_examples=200, deadline=None)
@given(conversation=messages)
def test_message_tokens_equal_the_direct_count(conversation: list[dict[str, Any]]) -> None:
    assert message_tokens(ENCODING, conversation) == reference(conversation)


@pytest.mark.parametrize("elsewhere", [False, True])
def test_trained_tokens_are_the_direct_count_whichever_process_counts(
    make_app: Callable[..., Starlette], monkeypatch: pytest.MonkeyPatch, elsewhere: bool
) -> None:
    if elsewhere:
        monkeypatch.setattr(counting, "PROCESS_CHARACTERS", 1)
    lines = [
        {
            "messages": [
                {"role": "system", "content": "Be brief.", "name": f"rules{i}"},
                {"role": "user", "content": [{"type": "text", "text": f"Sum {i} and {i}?"}]},
                {"role": "assistant", "content": None, "tool_calls": [{"id": f"c{i}", "function": {"name": "add"}}]},
                {"role": "tool", "content": str(2 * i)},
                {"role": "assistant", "content": f"It is {2 * i}.", "weight": 1},
            ]
        }
        for i in range(12)
    ]
    http = in_process(make_app())
    file_id = upload(http, jsonl(lines))["id"]
    body = {"model": "gpt-4o-mini-2024-07-18", "training_file": file_id, "hyperparameters": {"n_epochs": 2}}
    job = http.post("/fine_tuning/jobs", json=body).json()
    for _ in range(20):
        job = http.get(f"/fine_tuning/jobs/{job['id']}").json()
        if job["status"] == "succeeded":
            break
        advance(http, 3600)
    assert job["trained_tokens"] == 2 * sum(reference(line["messages"]) for line in lines)
