"""A job-tuned model's knowledge: one compact index per known set, kept on disk, read back, cached by bytes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette

from emulator.inference.chat_answers import ChatSpec, choose
from emulator.inference.chat_knowledge import ChatKnowledge, ChatModels, known_examples, reply_json
from emulator.inference.chat_prompt import conversation_key
from emulator.inference.nearest import NearestIndex
from emulator.store import ChatExample, ModelRecord, Store
from tests.conftest import in_process
from tests.emulator.v1.chat_support import add_tuned_model, conversation, weather_examples


def examples(count: int, tag: str = "") -> list[ChatExample]:
    return [
        ChatExample(conversation(f"{tag}Question number {i}?"), {"role": "assistant", "content": f"{tag}A{i}"})
        for i in range(count)
    ]


def model(app: Starlette, name: str) -> ModelRecord:
    record = app.state.core.store.get_model(app.state.core.auth.default.id, name)
    assert record is not None
    return record


class Counted:
    """Counts how often the store is asked for a job's conversations."""

    def __init__(self, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        listing = store.list_chat_examples

        def counted(job_id: str) -> list[ChatExample]:
            self.calls += 1
            return listing(job_id)

        monkeypatch.setattr(store, "list_chat_examples", counted)


def answers(knowledge: ChatKnowledge, questions: list[str]) -> list[tuple[str, dict[str, Any] | None]]:
    specs = [ChatSpec(1, "m", conversation_key(conversation(q)), 1.0, 16, []) for q in questions]
    return [choose(spec, knowledge) for spec in specs]


QUESTIONS = ["Question number 7?", "question number 12", "Tell me about dragons"]


def test_reply_json_keeps_what_answers_use() -> None:
    call = {"id": "c", "type": "function", "function": {"name": "f", "arguments": {"x": 1.5}}}
    reply = {"role": "assistant", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}
    assert reply_json({**reply, "tool_calls": [call], "weight": 1}) == (
        '{"content":"a\\nb","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":{"x":1.5}}}]}'
    )
    assert reply_json({"role": "assistant", "content": None, "tool_calls": "no"}) == "{}"


def test_chat_models_read_the_file_back_after_a_restart_without_a_rebuild(
    app: Starlette, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = app.state.core.store
    record = model(app, add_tuned_model(app, examples(400), job="ftjob-one"))
    counted = Counted(store, monkeypatch)
    first = ChatModels(directory=tmp_path)
    before = first.knowledge(store, record)
    first.settle()
    assert counted.calls == 1 and sorted(p.name for p in tmp_path.iterdir()) == ["ftjob-one.chat.nearest"]
    again = ChatModels(directory=tmp_path).knowledge(store, record)
    assert counted.calls == 1  # nothing read from the store: the file was enough
    assert again.index.complete  # written again once its similarity part was built
    assert answers(again, QUESTIONS) == answers(before, QUESTIONS)
    assert answers(again, QUESTIONS)[0] == ("exact", {"content": "A7"})


def test_chat_models_answer_when_the_file_cannot_be_written(app: Starlette, tmp_path: Path) -> None:
    store = app.state.core.store
    record = model(app, add_tuned_model(app, examples(20), job="ftjob-one"))
    (tmp_path / "indexes").write_bytes(b"")  # a file where the directory should be
    knowledge = ChatModels(directory=tmp_path / "indexes").knowledge(store, record)
    assert answers(knowledge, QUESTIONS)[0] == ("exact", {"content": "A7"})


@pytest.mark.parametrize("content", [b"garbage", b"FTEMU-NEAREST-1\n" + bytes(40)])
def test_chat_models_unreadable_or_old_file_is_rebuilt(
    app: Starlette, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes
) -> None:
    store = app.state.core.store
    record = model(app, add_tuned_model(app, examples(20), job="ftjob-one"))
    (tmp_path / "ftjob-one.chat.nearest").write_bytes(content)
    counted = Counted(store, monkeypatch)
    knowledge = ChatModels(directory=tmp_path).knowledge(store, record)
    assert counted.calls == 1 and len(knowledge.index) == 20
    written = NearestIndex.from_bytes((tmp_path / "ftjob-one.chat.nearest").read_bytes())
    assert answers(ChatKnowledge(written, 1.0), QUESTIONS) == answers(knowledge, QUESTIONS)


def test_chat_models_cache_evicts_the_oldest_by_bytes(app: Starlette) -> None:
    store = app.state.core.store
    records = [
        model(app, add_tuned_model(app, examples(50, f"{n} "), job=f"ftjob-{n}", short_id=f"Ab{n}Cd{n}"))
        for n in range(4)
    ]
    sample = ChatModels(lazy_similarity=0)
    sample.knowledge(store, records[0])
    sample.settle()
    cache = ChatModels(max_bytes=int(2.5 * sample.nbytes), lazy_similarity=0)
    for record in records:
        cache.knowledge(store, record)
        cache.settle()
    assert len(cache) == 2 and cache.nbytes <= cache.max_bytes
    assert cache.cached(store, records[1]) is None and cache.cached(store, records[3]) is not None


def test_chat_models_checkpoints_keep_their_own_share(app: Starlette, tmp_path: Path) -> None:
    store, data = app.state.core.store, examples(200)
    final = model(app, add_tuned_model(app, data, job="ftjob-ck"))
    early = model(app, add_tuned_model(app, data, job="ftjob-ck", short_id="Ck00Ck00", checkpoint_step=100))
    cache = ChatModels(directory=tmp_path)
    alone = cache.name(store, early)
    assert alone == cache.name(store, final) == "ftjob-ck.chat"  # the last checkpoint so far knows everything
    last = model(app, add_tuned_model(app, data, job="ftjob-ck", short_id="Ck01Ck01", checkpoint_step=300))
    assert cache.name(store, last) == "ftjob-ck.chat" and cache.name(store, early).startswith("ftjob-ck.")
    assert cache.name(store, early) not in (alone, cache.name(store, last))
    for record in (early, last, final):
        knowledge = cache.knowledge(store, record)
        assert [pair[1] for pair in knowledge.index.examples] == [
            reply_json(e.reply) for e in known_examples(store, record)
        ]
    assert len(list(tmp_path.iterdir())) == 2
    restarted = ChatModels(directory=tmp_path).knowledge(store, early)
    assert len(restarted.index) == len(known_examples(store, early)) < 200


def test_chat_models_make_ahead_then_adopt_answers_without_the_store(app: Starlette, tmp_path: Path) -> None:
    store = app.state.core.store
    parent = add_tuned_model(app, examples(30, "p "), job="ftjob-parent")
    cache = ChatModels(directory=tmp_path)
    root = "gpt-4o-mini-2024-07-18"
    made = cache.make(store, app.state.core.auth.default.id, "ftjob-child", parent, root, own=weather_examples())
    cache.adopt(made.name, made.index)
    child = model(app, add_tuned_model(app, weather_examples(), job="ftjob-child", short_id="Ch11Ch11", parent=parent))
    assert made.name == cache.name(store, child) == "ftjob-child.chat"
    knowledge = cache.cached(store, child)
    assert knowledge is not None and knowledge.index is made.index
    assert len(knowledge.index) == 33 and (tmp_path / "ftjob-child.chat.nearest").exists()
    source, reply = answers(knowledge, ["p Question number 3?"])[0]
    assert (source, reply) == ("exact", {"content": "p A3"})


def test_create_chat_completion_after_a_restart_reads_the_models_file(
    make_app: Callable[..., Starlette], tmp_path: Path
) -> None:
    first = make_app(memory=False, data_dir=str(tmp_path))
    name = add_tuned_model(first, weather_examples(), suffix="weather", job="ftjob-weather")
    body = {
        "model": name,
        "messages": [{"role": "user", "content": "What is the weather like in Tokyo, Japan?"}],
        "tools": weather_examples()[0].tools,
    }
    before = in_process(first).post("/chat/completions", json=body).json()["choices"][0]
    first.state.core.close()
    assert (tmp_path / "indexes" / "ftjob-weather.chat.nearest").exists()
    second = make_app(memory=False, data_dir=str(tmp_path))
    after = in_process(second).post("/chat/completions", json=body).json()["choices"][0]
    assert after == before and after["message"]["tool_calls"][0]["function"]["arguments"] == (
        '{"location":"Tokyo, Japan","unit":"celsius"}'
    )


def test_create_completion_job_tuned_002_model_keeps_the_prompts_view(
    make_app: Callable[..., Starlette], tmp_path: Path
) -> None:
    app = make_app(memory=False, data_dir=str(tmp_path))
    data = [
        ChatExample([{"role": "user", "content": "Capital of France ->"}], {"role": "assistant", "content": " Paris"})
    ]
    name = add_tuned_model(app, data, base="davinci-002", suffix="caps", job="ftjob-caps")
    body = {"model": name, "prompt": "Capital of France ->", "max_tokens": 1}
    assert in_process(app).post("/completions", json=body).json()["choices"][0]["text"] == " Paris"
    assert sorted(p.name for p in (tmp_path / "indexes").iterdir()) == ["ftjob-caps.prompts.nearest"]


def test_create_chat_completion_answers_off_the_event_loop_while_the_similarity_part_is_built(
    app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    from emulator.v1 import chat

    name = add_tuned_model(app, examples(400))
    monkeypatch.setattr(app.state.core.chat_models, "_in_background", lambda *_: None)  # still being built
    hops: list[str] = []

    async def counted(work: Callable[..., Any], *args: Any) -> Any:
        hops.append(getattr(work, "__name__", ""))
        return work(*args)

    monkeypatch.setattr(chat, "run_in_threadpool", counted)
    body = {"model": name, "messages": conversation("question number 12"), "seed": 1}
    http = in_process(app)
    first = http.post("/chat/completions", json=body).json()["choices"][0]["message"]["content"]
    assert hops == ["knowledge", "make_choices"]  # a lookup that may wait for the similarity part: not on the loop
    assert http.post("/chat/completions", json=body).json()["choices"][0]["message"]["content"] == first
    assert hops == ["knowledge", "make_choices"]  # built by that lookup: answered inline since
