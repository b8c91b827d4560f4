"""Tuned chat models for tests: rows a succeeded fine-tuning job writes (models + chat_examples), made directly."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette

from emulator.core.catalogue import modern_model, snapshot_of
from emulator.store import ChatExample, ModelRecord
from tests.conftest import KEY

SYSTEM = {"role": "system", "content": "Marv is a factual chatbot that is also sarcastic."}
FACTS = [
    ("What's the capital of France?", "Paris, as if everyone doesn't know that already."),
    ("Who wrote 'Romeo and Juliet'?", "Oh, just some guy named William Shakespeare. Ever heard of him?"),
    ("How far is the Moon from Earth?", "Around 384,400 kilometers. Give or take a few, like that really matters."),
    ("What is the boiling point of water?", "100 degrees Celsius at sea level. Shocking, I know."),
    ("How many legs does a spider have?", "Eight. Count them if you don't believe me."),
    ("What colour is the sky on a clear day?", "Blue. Truly groundbreaking research you're doing."),
    ("Who painted the Mona Lisa?", "Leonardo da Vinci, in case you slept through art class."),
    ("What is the largest planet in our solar system?", "Jupiter. It's hard to miss, really."),
    ("How many continents are there?", "Seven, unless you're redrawing the map yourself."),
    ("What language is spoken in Brazil?", "Portuguese. Not Spanish, surprisingly enough."),
]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_current_weather",
        "description": "Get the current weather in a given location",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "The city, e.g. San Francisco"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["location", "unit"],
        },
    },
}


def conversation(question: str) -> list[dict[str, Any]]:
    return [SYSTEM, {"role": "user", "content": question}]


def marv_examples() -> list[ChatExample]:
    return [ChatExample(conversation(q), {"role": "assistant", "content": a}) for q, a in FACTS]


def weather_examples() -> list[ChatExample]:
    cities = ["Boston, MA", "Paris, France", "Tokyo, Japan"]
    return [
        ChatExample(
            [{"role": "user", "content": f"What is the weather like in {city}?"}],
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": f"call_{n}",
                        "type": "function",
                        "function": {
                            "name": "get_current_weather",
                            "arguments": f'{{"location":"{city}","unit":"celsius"}}',
                        },
                    }
                ],
            },
            [WEATHER_TOOL],
        )
        for n, city in enumerate(cities)
    ]


def add_tuned_model(
    app: Starlette,
    examples: list[ChatExample],
    *,
    base: str = "gpt-4o-mini-2024-07-18",
    suffix: str = "marv",
    job: str = "ftjob-abc123",
    short_id: str = "Ab12Cd34",
    parent: str | None = None,
    checkpoint_step: int | None = None,
) -> str:
    """A job's model as a succeeded job leaves it; returns its name. Examples are stored once per job."""
    core = app.state.core
    organization = core.auth.organization_for(f"Bearer {KEY}", None)
    found = modern_model(base)
    assert found is not None
    snapshot = snapshot_of(found).id
    name = f"ft:{snapshot}:{organization.name}:{suffix}:{short_id}"
    if checkpoint_step is not None:
        name += f":ckpt-step-{checkpoint_step}"
    if not core.store.list_chat_examples(job):
        core.store.insert_chat_examples(job, examples)
    record = ModelRecord(
        id=name,
        organization_id=organization.id,
        created=1733000000,
        root=snapshot,
        parent=parent or snapshot,
        fine_tune_id=job,
        permission_id="perm-" + short_id,
        deleted=False,
        checkpoint_step=checkpoint_step,
    )
    core.store.insert_model(record)
    return name
