"""Tuned models answer from their training data: nearest prompts, retraining, deletion, organisations, quality."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from emulator import Settings
from emulator.inference import quality
from emulator.inference.nearest import NearestIndex, common_separator
from emulator.inference.quality import DEFAULT_QUALITY, parse_quality
from emulator.inference.tuned import TunedModels
from emulator.settings import load_settings
from emulator.store import ModelRecord
from tests.conftest import assert_error, capitals, in_process
from tests.emulator.legacy.test_completions import complete, tune

SEP = "\n\n###\n\n"
CITIES = {row["completion"] for row in capitals(100)}


def ask(http: httpx.Client, model: str, prompt: str) -> str:
    text: str = complete(http, model=model, prompt=prompt, stop="\n")["choices"][0]["text"]
    return text


def example(prompt: str, answer: str) -> dict[str, str]:
    return {"prompt": prompt + SEP, "completion": f" {answer}\n"}


# retraining -------------------------------------------------------------------------------------------------


def test_create_completion_retrained_model_knows_parent_and_own_examples(api: httpx.Client) -> None:
    parent = tune(api, capitals(20))
    child = tune(
        api, [example("The capital of Poland is", "Krakow"), example("The capital of Spain is", "Madrid")], model=parent
    )
    assert ask(api, child, "The capital of Spain is" + SEP) == " Madrid"
    assert ask(api, child, "The capital of Poland is" + SEP) == " Krakow"
    assert ask(api, child, "The capital of France is" + SEP) == " Paris"
    assert ask(api, parent, "The capital of Poland is" + SEP) == " Warsaw"


def test_create_completion_grandchild_inherits_the_whole_chain(api: httpx.Client) -> None:
    first = tune(api, [example("Alpha", "one")], model="ada")
    second = tune(api, [example("Beta", "two")], model=first)
    third = tune(api, [example("Gamma", "three")], model=second)
    assert [ask(api, third, p) for p in ("Alpha", "Beta", "Gamma")] == [" one", " two", " three"]


def test_create_completion_retrained_model_outlives_its_deleted_parent(api: httpx.Client) -> None:
    parent = tune(api, capitals(20))
    child = tune(api, [example("The capital of Spain is", "Madrid")], model=parent)
    assert api.delete(f"/models/{parent}").status_code == 200
    assert ask(api, child, "The capital of France is" + SEP) == " Paris"
    response = api.post("/completions", json={"model": parent, "prompt": "x"})
    assert_error(response, 404, f"The model `{parent}` does not exist", code="model_not_found")


# deleted and foreign models -------------------------------------------------------------------------------


def test_create_completion_deleted_model_is_404(client: httpx.Client) -> None:
    model = tune(client, capitals(10))
    assert ask(client, model, "The capital of Japan is") == " Tokyo"
    assert client.delete(f"/models/{model}").status_code == 200
    response = client.post("/completions", json={"model": model, "prompt": "The capital of Japan is"})
    assert_error(response, 404, f"The model `{model}` does not exist", code="model_not_found")


def test_create_completion_other_organisations_model_is_404(make_app: Callable[..., Starlette], tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"sk-alice-0123456789": "alice", "sk-bob-0123456789": "bob"}))
    app = make_app(keys=str(keys), speed="instant")
    alice = in_process(app, headers={"Authorization": "Bearer sk-alice-0123456789"})
    bob = in_process(app, headers={"Authorization": "Bearer sk-bob-0123456789"})
    model = tune(alice, capitals(10))
    assert ask(alice, model, "The capital of Japan is") == " Tokyo"
    response = bob.post("/completions", json={"model": model, "prompt": "The capital of Japan is"})
    assert_error(response, 404, f"The model `{model}` does not exist", code="model_not_found")


# nearest prompts and quality profiles ---------------------------------------------------------------------


def test_create_completion_similar_prompt_answers_from_nearest_example(make_app: Callable[..., Starlette]) -> None:
    api = in_process(make_app(quality="curie=1"))
    model = tune(api)
    assert ask(api, model, "What is the capital of Polnad?") == " Warsaw"
    assert ask(api, model, "capital of Kenya") == " Nairobi"


def test_create_completion_quality_zero_gives_base_text_for_unseen_prompts(
    make_app: Callable[..., Starlette],
) -> None:
    api = in_process(make_app(quality="curie=0"))
    model = tune(api)
    assert ask(api, model, "The capital of Poland is") == " Warsaw"
    text = complete(api, model=model, prompt="What is the capital of Polnad?", max_tokens=12)["choices"][0]["text"]
    assert not any(city.strip() in text for city in CITIES)


def test_create_completion_unrelated_prompt_falls_back_to_base_text(make_app: Callable[..., Starlette]) -> None:
    api = in_process(make_app(quality="curie=1"))
    model = tune(api)
    text = complete(api, model=model, prompt="zzzz qqqq", max_tokens=12)["choices"][0]["text"]
    assert not any(city.strip() in text for city in CITIES)


def test_create_completion_quality_is_the_rate_for_unseen_prompts(make_app: Callable[..., Starlette]) -> None:
    api = in_process(make_app(quality="ada=0.5,curie=0.9", speed="instant"))
    records = [example(f"Item number {i} is called", f"Name{i}") for i in range(50)]
    answers = {"ada": 0, "curie": 0}
    for base in answers:
        model = tune(api, records, model=base)
        for i in range(200):
            text = ask(api, model, f"Item number {i % 50} is named, variant {i}")
            answers[base] += text.startswith(" Name")
    assert 70 <= answers["ada"] <= 130 and 160 <= answers["curie"] <= 198, answers


def test_create_completion_quality_decision_follows_the_documented_draw(make_app: Callable[..., Starlette]) -> None:
    api = in_process(make_app(quality="babbage=0.5", seed=7))
    model = tune(api, [example(f"Item number {i} is called", f"Name{i}") for i in range(20)], model="babbage")
    for i in range(40):
        prompt = f"Item number {i % 20} is named, variant {i}"
        expected = quality.draw(7, model, prompt) < 0.5
        assert ask(api, model, prompt).startswith(" Name") == expected, prompt


def test_create_completion_quality_decision_is_deterministic(make_app: Callable[..., Starlette]) -> None:
    texts = set()
    for _ in range(2):
        api = in_process(make_app(quality="curie=0.5"))
        model = tune(api)
        texts.add(tuple(ask(api, model, f"Capital city of Country{i}?") for i in range(20)))
    assert len(texts) == 1


# the index ------------------------------------------------------------------------------------------------


def test_common_separator_is_the_shared_trailing_punctuation() -> None:
    assert common_separator(["a is\n\n###\n\n", "b is\n\n###\n\n"]) == "\n\n###\n\n"
    assert common_separator(["apple ->", "pear ->"]) == " ->"
    assert common_separator(["apple", "pear"]) == ""
    assert common_separator([]) == ""


def test_nearest_index_last_duplicate_wins() -> None:
    index = NearestIndex([("Q ->", " a"), ("R ->", " b"), ("Q  ->", " c")])
    match = index.nearest("Q ->")
    assert match is not None and match.exact and index.examples[match.index] == ("Q  ->", " c")
    assert len(index) == 2


def test_nearest_index_empty_has_no_match() -> None:
    assert NearestIndex([]).nearest("anything") is None


@settings(max_examples=50, deadline=None)
@given(prompts=st.lists(st.text(min_size=1, max_size=30), min_size=1, max_size=30), query=st.text(max_size=40))
def test_nearest_index_finds_every_training_prompt_and_never_crashes(prompts: list[str], query: str) -> None:
    index = NearestIndex([(prompt, f" {i}") for i, prompt in enumerate(prompts)])
    for prompt in prompts:
        match = index.nearest(prompt)
        assert match is not None and match.exact
        assert index.key(index.examples[match.index][0]) == index.key(prompt)
    found = index.nearest(query)
    assert found is not None and 0.0 <= found.score <= 1.0 + 1e-9


def test_nearest_index_similarity_matches_brute_force() -> None:
    prompts = [f"The capital of Country{i} is{SEP}" for i in range(300)] + [f"Capital of {c}{SEP}" for c in "ABC"]
    index = NearestIndex([(p, " x") for p in prompts])
    for query in ("capital of country12", "Country 299", "the capital of B", "nothing alike"):
        match = index.nearest(query)
        assert match is not None
        assert match.score == pytest.approx(max(index.similarity(query, p) for p, _ in index.examples))


def test_tuned_models_cache_is_bounded() -> None:
    cache = TunedModels(capacity=2)

    class Store:
        def list_fine_tune_examples(self, fine_tune_id: str) -> list[tuple[str, str]]:
            return [(fine_tune_id, " x")]

    records = [ModelRecord(f"ada:ft-{i}", "org", 0, "ada", "ada", f"ft-{i}", "p", False) for i in range(3)]
    for record in records:
        cache.index(Store(), record)  # type: ignore[arg-type]
    assert len(cache) == 2 and cache.cached(records[0]) is None and cache.cached(records[2]) is not None


# the setting ----------------------------------------------------------------------------------------------


def test_quality_setting_defaults_and_overrides() -> None:
    assert parse_quality(DEFAULT_QUALITY) == {"ada": 0.55, "babbage": 0.7, "curie": 0.85, "davinci": 0.95}
    assert parse_quality("curie=0.1")["curie"] == 0.1 and parse_quality("curie=0.1")["ada"] == 0.55
    assert load_settings(environ={"FTEMU_QUALITY": "ada=1"}).quality == "ada=1"


@pytest.mark.parametrize("value", ["", "gpt=0.5", "ada", "ada=x", "ada=1.5", "ada=-0.1"])
def test_quality_setting_rejects_bad_values(value: str) -> None:
    with pytest.raises(ValueError, match="--quality"):
        Settings(quality=value)
