"""Which model answers: continued training, checkpoints, deletion, organisations, and the 002 completion models."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.applications import Starlette

from emulator.core.tokens import cl100k_base
from emulator.inference.chat_knowledge import ChatModels, known_examples
from emulator.store import ChatExample
from tests.conftest import assert_error
from tests.emulator.v1.chat_support import FACTS, SYSTEM, add_tuned_model, conversation, marv_examples


def reply(http: httpx.Client, model: str, question: str, **extra: Any) -> str:
    response = http.post("/chat/completions", json={"model": model, "messages": conversation(question), **extra})
    assert response.status_code == 200, response.text
    text: str = response.json()["choices"][0]["message"]["content"]
    return text


def test_create_chat_completion_continued_model_knows_parent_and_own(app: Starlette, api: httpx.Client) -> None:
    parent = add_tuned_model(app, marv_examples())
    own = [
        ChatExample(conversation(FACTS[0][0]), {"role": "assistant", "content": "Lyon. Just kidding, Paris."}),
        ChatExample(conversation("What is 2 + 2?"), {"role": "assistant", "content": "Four, genius."}),
    ]
    child = add_tuned_model(app, own, job="ftjob-child", short_id="Ch11Ch11", parent=parent)
    assert reply(api, child, "What is 2 + 2?") == "Four, genius."
    assert reply(api, child, FACTS[0][0]) == "Lyon. Just kidding, Paris."
    assert reply(api, child, FACTS[3][0]) == FACTS[3][1]
    assert reply(api, parent, FACTS[0][0]) == FACTS[0][1]


def test_create_chat_completion_continued_model_outlives_its_deleted_parent(app: Starlette, api: httpx.Client) -> None:
    parent = add_tuned_model(app, marv_examples())
    child = add_tuned_model(app, [], job="ftjob-child", short_id="Ch11Ch11", parent=parent)
    assert api.delete(f"/models/{parent}").status_code == 200
    assert reply(api, child, FACTS[2][0]) == FACTS[2][1]
    message = f"The model `{parent}` does not exist or you do not have access to it."
    response = api.post("/chat/completions", json={"model": parent, "messages": conversation("x")})
    assert_error(response, 404, message, code="model_not_found")


def test_checkpoints_know_more_as_their_step_grows(app: Starlette) -> None:
    examples = [
        ChatExample([SYSTEM, {"role": "user", "content": f"Question {i}"}], {"role": "assistant", "content": f"A{i}"})
        for i in range(200)
    ]
    final = add_tuned_model(app, examples, job="ftjob-ck")
    steps = [add_tuned_model(app, examples, job="ftjob-ck", checkpoint_step=s) for s in (100, 200, 300)]
    store = app.state.core.store
    records = [store.get_model(app.state.core.auth.default.id, name) for name in [*steps, final]]
    known = [{e.reply["content"] for e in known_examples(store, r)} for r in records if r is not None]
    assert [len(k) for k in known][-2:] == [200, 200]
    assert 40 < len(known[0]) < 95 and 100 < len(known[1]) < 170
    assert known[0] <= known[1] <= known[2] == known[3]


def test_create_chat_completion_checkpoint_answers_as_its_step(app: Starlette, api: httpx.Client) -> None:
    examples = [
        ChatExample(
            [{"role": "user", "content": f"Tell me fact number {i}"}], {"role": "assistant", "content": f"F{i}"}
        )
        for i in range(40)
    ]
    add_tuned_model(app, examples, job="ftjob-ck", suffix="")
    early = add_tuned_model(app, examples, job="ftjob-ck", suffix="", short_id="Ck00Ck00", checkpoint_step=10)
    add_tuned_model(app, examples, job="ftjob-ck", suffix="", short_id="Ck01Ck01", checkpoint_step=30)
    answers = []
    for i in range(40):
        body = {"model": early, "messages": [{"role": "user", "content": f"Tell me fact number {i}"}], "seed": 1}
        answers.append(api.post("/chat/completions", json=body).json()["choices"][0]["message"]["content"])
    learned = sum(answer == f"F{i}" for i, answer in enumerate(answers))
    assert 2 <= learned <= 30


def test_chat_models_cache_is_bounded(app: Starlette) -> None:
    first = add_tuned_model(app, marv_examples())
    second = add_tuned_model(app, marv_examples(), job="ftjob-second", short_id="Se22Se22")
    store, cache = app.state.core.store, ChatModels(capacity=1)
    records = [store.get_model(app.state.core.auth.default.id, name) for name in (first, second)]
    for record in records:
        assert record is not None and len(cache.knowledge(store, record).index) == len(FACTS)
    assert records[0] is not None and records[1] is not None
    assert len(cache) == 1 and cache.cached(store, records[1]) is not None and cache.cached(store, records[0]) is None


def test_create_completion_serves_the_002_models(api: httpx.Client) -> None:
    for model in ("davinci-002", "babbage-002", "gpt-3.5-turbo-instruct"):
        response = api.post("/completions", json={"model": model, "prompt": "Once upon a time", "max_tokens": 5})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["model"] == model and body["usage"]["prompt_tokens"] == len(
            cl100k_base().encode("Once upon a time")
        )
        assert body["usage"]["completion_tokens"] == len(cl100k_base().encode(body["choices"][0]["text"])) == 5


def test_create_completion_002_context_is_the_catalogue_window(api: httpx.Client) -> None:
    prompt = "hello " * 3000
    used = len(cl100k_base().encode(prompt))
    assert api.post("/completions", json={"model": "davinci-002", "prompt": prompt}).status_code == 200
    response = api.post("/completions", json={"model": "gpt-3.5-turbo-instruct", "prompt": prompt, "max_tokens": 2000})
    assert_error(
        response,
        400,
        f"This model's maximum context length is 4096 tokens, however you requested {used + 2000} tokens "
        f"({used} in your prompt; 2000 for the completion). Please reduce your prompt; or completion length.",
    )


def test_create_completion_job_tuned_002_model_answers_from_training(app: Starlette, api: httpx.Client) -> None:
    examples = [
        ChatExample(
            [{"role": "user", "content": f"The capital of {c} is ->"}], {"role": "assistant", "content": f" {t}\n"}
        )
        for c, t in (("Poland", "Warsaw"), ("France", "Paris"), ("Japan", "Tokyo"))
    ]
    model = add_tuned_model(app, examples, base="davinci-002", suffix="caps", job="ftjob-caps")
    assert model.startswith("ft:davinci-002:")
    body = {"model": model, "prompt": "The capital of France is ->", "stop": "\n"}
    response = api.post("/completions", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["text"] == " Paris"


def test_retrieve_model_modern_base(api: httpx.Client) -> None:
    response = api.get("/models/gpt-4o-mini-2024-07-18")
    assert response.json() == {
        "id": "gpt-4o-mini-2024-07-18",
        "object": "model",
        "created": 1721172717,
        "owned_by": "system",
    }


def test_list_models_has_the_modern_base_models(api: httpx.Client) -> None:
    data = api.get("/models").json()["data"]
    modern = {model["id"]: model for model in data[4:]}
    assert "gpt-4o-mini" in modern and "davinci-002" in modern and "gpt-3.5-turbo-instruct" in modern
    assert all(list(model) == ["id", "object", "created", "owned_by"] for model in modern.values())


def test_delete_model_modern_base_is_refused(api: httpx.Client) -> None:
    assert_error(
        api.delete("/models/gpt-4o-mini"),
        403,
        "You have insufficient permissions to delete the base model 'gpt-4o-mini'; only fine-tuned models your "
        "organization owns can be deleted.",
        param="model",
    )


def test_model_continued_from_a_checkpoint_knows_what_the_checkpoint_knew(app: Starlette) -> None:
    examples = [
        ChatExample([{"role": "user", "content": f"Q{i}"}], {"role": "assistant", "content": f"A{i}"})
        for i in range(60)
    ]
    add_tuned_model(app, examples, job="ftjob-ck", suffix="")
    early = add_tuned_model(app, examples, job="ftjob-ck", suffix="", short_id="Ck00Ck00", checkpoint_step=10)
    add_tuned_model(app, examples, job="ftjob-ck", suffix="", short_id="Ck01Ck01", checkpoint_step=30)
    own = [ChatExample([{"role": "user", "content": "new"}], {"role": "assistant", "content": "fresh"})]
    child = add_tuned_model(app, own, job="ftjob-next", suffix="", short_id="Nx00Nx00", parent=early)
    store, org = app.state.core.store, app.state.core.auth.default.id
    early_record, child_record = store.get_model(org, early), store.get_model(org, child)
    assert early_record is not None and child_record is not None
    knew = [e.reply["content"] for e in known_examples(store, early_record)]
    assert 0 < len(knew) < 60
    assert [e.reply["content"] for e in known_examples(store, child_record)] == [*knew, "fresh"]
