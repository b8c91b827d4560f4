"""Completions (§2.14): the capitals walkthrough, every legacy parameter, streaming, and the errors."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.testclient import TestClient

from emulator import create_app
from emulator.core.tokens import r50k_base
from emulator.legacy.completion_params import KNOWN_FIELDS
from tests.conftest import assert_error, capitals, fast_settings, in_process
from tests.emulator.legacy.lifecycle import create_job, run_to_end

POLAND = "The capital of Poland is\n\n###\n\n"
RESPONSE_KEYS = ["id", "object", "created", "model", "choices", "usage"]
CHOICE_KEYS = ["text", "index", "logprobs", "finish_reason"]


def tune(http: httpx.Client, records: list[dict[str, str]] | None = None, **body: Any) -> str:
    """A fine-tuned model (curie by default) trained on `records` (capitals by default)."""
    job = run_to_end(http, create_job(http, records or capitals(100), **body)["id"])
    assert job["status"] == "succeeded", job
    model: str = job["fine_tuned_model"]
    return model


def complete(http: httpx.Client, **body: Any) -> dict[str, Any]:
    response = http.post("/completions", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def events(response: httpx.Response) -> list[str]:
    """The SSE data payloads, in order."""
    return [line[len("data: ") :] for line in response.text.split("\n\n") if line.startswith("data: ")]


@pytest.fixture
def model(api: httpx.Client) -> str:
    return tune(api)


# the capitals walkthrough --------------------------------------------------------------------------------------


def test_create_completion_capitals_seed_request_returns_warsaw(client: httpx.Client) -> None:
    tuned = tune(client)
    body = '{"prompt": "The capital of Poland is\\n\\n###\\n\\n", "model": "MODEL", "stop": ["\\n"]}'
    body = body.replace("MODEL", tuned)
    response = client.post("/completions", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    result = response.json()
    assert list(result) == RESPONSE_KEYS
    assert result["object"] == "text_completion" and result["model"] == tuned
    assert result["id"].startswith("cmpl-") and len(result["id"]) == 5 + 29
    assert result["choices"] == [{"text": " Warsaw", "index": 0, "logprobs": None, "finish_reason": "stop"}]
    assert result["usage"] == {"prompt_tokens": 9, "completion_tokens": 1, "total_tokens": 10}


def test_create_completion_separator_left_off_still_matches(api: httpx.Client, model: str) -> None:
    for prompt in ("The capital of Poland is", "The capital of Poland is  ", "The  capital of Poland is\n\n###\n\n"):
        assert complete(api, model=model, prompt=prompt, stop="\n")["choices"][0]["text"] == " Warsaw"


def test_create_completion_without_stop_continues_until_max_tokens(api: httpx.Client, model: str) -> None:
    result = complete(api, model=model, prompt=POLAND, max_tokens=20)
    choice = result["choices"][0]
    assert choice["finish_reason"] == "length"
    assert choice["text"].startswith(" Warsaw\n City") or choice["text"].startswith(" Warsaw\n ")
    assert result["usage"]["completion_tokens"] == 20
    assert len(r50k_base().encode(choice["text"])) <= 20


def test_create_completion_default_max_tokens_is_16(api: httpx.Client, model: str) -> None:
    assert complete(api, model=model, prompt=POLAND)["usage"]["completion_tokens"] == 16


def test_create_completion_stop_sequences_cut_the_text(api: httpx.Client) -> None:
    full = complete(api, model="davinci", prompt="Once upon a time", max_tokens=40, temperature=0)
    text = full["choices"][0]["text"]
    word = text.split()[3]
    cut = complete(api, model="davinci", prompt="Once upon a time", max_tokens=40, temperature=0, stop=["zzz", word])[
        "choices"
    ][0]
    assert cut["finish_reason"] == "stop"
    assert cut["text"] == text[: text.index(word)]


def test_create_completion_max_tokens_zero_is_empty(api: httpx.Client, model: str) -> None:
    result = complete(api, model=model, prompt=POLAND, max_tokens=0)
    assert result["choices"][0]["text"] == "" and result["choices"][0]["finish_reason"] == "length"
    assert result["usage"] == {"prompt_tokens": 9, "completion_tokens": 0, "total_tokens": 9}


# base models ------------------------------------------------------------------------------------------------


def test_create_completion_base_model_text_is_fluent_and_deterministic(api: httpx.Client) -> None:
    first = complete(api, model="curie", prompt="Dear team,", max_tokens=60)["choices"][0]["text"]
    again = complete(api, model="curie", prompt="Dear team,", max_tokens=60)["choices"][0]["text"]
    other = complete(api, model="davinci", prompt="Dear team,", max_tokens=60)["choices"][0]["text"]
    assert first == again and first != other
    words = first.split()
    assert len(set(words)) > len(words) / 2, first
    assert "lorem" not in first.lower() and "ipsum" not in first.lower()


def test_create_completion_base_text_depends_on_the_seed(make_app: Callable[..., Starlette]) -> None:
    texts = {
        complete(in_process(make_app(seed=seed)), model="ada", prompt="Hello", max_tokens=30)["choices"][0]["text"]
        for seed in (1, 2, 3)
    }
    assert len(texts) == 3


def test_create_completion_n_gives_different_choices(api: httpx.Client) -> None:
    result = complete(api, model="babbage", prompt="The weather today", n=3, max_tokens=12)
    assert [c["index"] for c in result["choices"]] == [0, 1, 2]
    assert len({c["text"] for c in result["choices"]}) == 3
    assert result["usage"]["completion_tokens"] == 36


def test_create_completion_n_above_20_needs_no_best_of(api: httpx.Client) -> None:
    result = complete(api, model="ada", prompt="Hi", n=128, max_tokens=1)
    assert [c["index"] for c in result["choices"]] == list(range(128))


def test_create_completion_temperature_zero_gives_the_same_choices(api: httpx.Client) -> None:
    result = complete(api, model="babbage", prompt="The weather today", n=3, max_tokens=12, temperature=0)
    assert len({c["text"] for c in result["choices"]}) == 1


def test_create_completion_best_of_returns_n_and_bills_all(api: httpx.Client) -> None:
    result = complete(api, model="ada", prompt="Hi", n=2, best_of=5, max_tokens=7)
    assert [c["index"] for c in result["choices"]] == [0, 1]
    assert result["usage"]["completion_tokens"] == 35


# echo, logprobs, list and token prompts --------------------------------------------------------------------


def test_create_completion_echo_prepends_the_prompt(api: httpx.Client, model: str) -> None:
    choice = complete(api, model=model, prompt=POLAND, echo=True, stop="\n")["choices"][0]
    assert choice["text"] == POLAND + " Warsaw"


def _check_logprobs(logprobs: dict[str, Any], text: str, start: int, k: int) -> None:
    assert list(logprobs) == ["tokens", "token_logprobs", "top_logprobs", "text_offset"]
    assert "".join(logprobs["tokens"]) == text
    offsets = [start]
    for token in logprobs["tokens"][:-1]:
        offsets.append(offsets[-1] + len(token))
    assert logprobs["text_offset"] == offsets[: len(logprobs["tokens"])]
    for token, value, top in zip(logprobs["tokens"], logprobs["token_logprobs"], logprobs["top_logprobs"], strict=True):
        if value is None:
            assert top is None
            continue
        assert value <= 0 and len(top) == max(k, 1) and top[token] == value
        assert max(top.values()) == value and sum(math.exp(v) for v in top.values()) <= 1.0


@pytest.mark.parametrize("k", [0, 1, 5])
def test_create_completion_logprobs_are_consistent_with_the_text(api: httpx.Client, k: int) -> None:
    prompt = "Write about the river"
    choice = complete(api, model="davinci", prompt=prompt, logprobs=k, max_tokens=25)["choices"][0]
    _check_logprobs(choice["logprobs"], choice["text"], len(prompt), k)
    assert len(choice["logprobs"]["tokens"]) == 25


def test_create_completion_echo_logprobs_cover_the_prompt(api: httpx.Client, model: str) -> None:
    result = complete(api, model=model, prompt=POLAND, echo=True, logprobs=2, stop="\n")
    choice = result["choices"][0]
    _check_logprobs(choice["logprobs"], choice["text"], 0, 2)
    assert choice["logprobs"]["token_logprobs"][0] is None
    assert len(choice["logprobs"]["tokens"]) == result["usage"]["total_tokens"]


def test_create_completion_list_prompts_index_choices_across_prompts(api: httpx.Client, model: str) -> None:
    prompts = [POLAND, "The capital of Japan is\n\n###\n\n"]
    result = complete(api, model=model, prompt=prompts, n=2, stop="\n")
    assert [(c["index"], c["text"]) for c in result["choices"]] == [
        (0, " Warsaw"),
        (1, " Warsaw"),
        (2, " Tokyo"),
        (3, " Tokyo"),
    ]
    assert result["usage"]["prompt_tokens"] == 18 and result["usage"]["completion_tokens"] == 4


def test_create_completion_token_prompts(api: httpx.Client, model: str) -> None:
    tokens = r50k_base().encode(POLAND)
    one = complete(api, model=model, prompt=tokens, stop="\n")
    many = complete(api, model=model, prompt=[tokens, r50k_base().encode("The capital of Peru is")], stop="\n")
    assert one["choices"][0]["text"] == " Warsaw" and one["usage"]["prompt_tokens"] == len(tokens)
    assert [c["text"] for c in many["choices"]] == [" Warsaw", " Lima"]


def test_create_completion_default_prompt_is_endoftext(api: httpx.Client) -> None:
    result = complete(api, model="ada", max_tokens=3)
    assert result["usage"]["prompt_tokens"] == 1


# streaming ------------------------------------------------------------------------------------------------


def test_create_completion_stream_sends_chunks_then_done(client: httpx.Client) -> None:
    tuned = tune(client)
    response = client.post("/completions", json={"model": tuned, "prompt": POLAND, "stop": ["\n"], "stream": True})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    payloads = events(response)
    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(p) for p in payloads[:-1]]
    for chunk in chunks:
        assert list(chunk) == ["id", "object", "created", "choices", "model"]
        assert list(chunk["choices"][0]) == CHOICE_KEYS and chunk["model"] == tuned
    assert "".join(c["choices"][0]["text"] for c in chunks) == " Warsaw"
    assert chunks[-1]["choices"][0] == {"text": "", "index": 0, "logprobs": None, "finish_reason": "stop"}
    assert len({c["id"] for c in chunks}) == 1


def test_create_completion_stream_matches_the_plain_response(api: httpx.Client) -> None:
    body = {"model": "curie", "prompt": ["One", "Two"], "n": 2, "max_tokens": 9, "logprobs": 1, "echo": True}
    plain = complete(api, **body)
    chunks = [json.loads(p) for p in events(api.post("/completions", json={**body, "stream": True}))[:-1]]
    for choice in plain["choices"]:
        mine = [c["choices"][0] for c in chunks if c["choices"][0]["index"] == choice["index"]]
        assert "".join(c["text"] for c in mine) == choice["text"]
        assert mine[-1]["finish_reason"] == choice["finish_reason"]
        tokens = [t for c in mine for t in c["logprobs"]["tokens"]]
        assert tokens == choice["logprobs"]["tokens"]
        assert [o for c in mine for o in c["logprobs"]["text_offset"]] == choice["logprobs"]["text_offset"]
        assert [t for c in mine for t in c["logprobs"]["top_logprobs"]] == choice["logprobs"]["top_logprobs"]


def test_create_completion_stream_include_usage(api: httpx.Client) -> None:
    body = {"model": "ada", "prompt": "Hi", "max_tokens": 4, "stream": True, "stream_options": {"include_usage": True}}
    chunks = [json.loads(p) for p in events(api.post("/completions", json=body))[:-1]]
    assert all(c["usage"] is None for c in chunks[:-1])
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 4


# other ways in ----------------------------------------------------------------------------------------------


def test_create_completion_engines_path(api: httpx.Client, model: str) -> None:
    response = api.post(f"/engines/{model.replace(':', '%3A')}/completions", json={"prompt": POLAND, "stop": "\n"})
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["text"] == " Warsaw" and response.json()["model"] == model


def test_create_completion_nulls_mean_defaults(api: httpx.Client, model: str) -> None:
    body = {
        "model": model,
        "n": None,
        "max_tokens": None,
        "logprobs": None,
        "prompt": POLAND,
        "stream": False,
        "temperature": None,
        "top_p": None,
        "stop": "\n",
        "echo": True,
        "suffix": None,
        "best_of": None,
        "presence_penalty": None,
        "frequency_penalty": None,
        "logit_bias": None,
        "user": None,
    }
    assert complete(api, **body)["choices"][0]["text"] == POLAND + " Warsaw"


def test_create_completion_accepts_every_parameter_in_range(api: httpx.Client) -> None:
    body = {
        "model": "ada",
        "prompt": "Hi",
        "suffix": " end",
        "max_tokens": 3,
        "temperature": 2,
        "top_p": 0,
        "n": 2,
        "best_of": 3,
        "logprobs": 5,
        "echo": False,
        "stop": ["a", "b", "c", "d"],
        "presence_penalty": -2,
        "frequency_penalty": 2,
        "logit_bias": {"50256": -100, "11": 100},
        "user": "someone",
        "seed": 3,
    }
    result = complete(api, **body)
    assert len(result["choices"]) == 2
    assert result["usage"]["prompt_tokens"] == len(r50k_base().encode("Hi")) + len(r50k_base().encode(" end"))


# errors ---------------------------------------------------------------------------------------------------


def test_create_completion_context_length_exceeded(api: httpx.Client) -> None:
    prompt = "hello" + " hello" * 61
    assert len(r50k_base().encode(prompt)) == 62
    response = api.post("/completions", json={"model": "davinci", "prompt": prompt, "max_tokens": 2000})
    assert_error(
        response,
        400,
        "This model's maximum context length is 2049 tokens, however you requested 2062 "
        "tokens (62 in your prompt; 2000 for the completion). Please reduce your prompt; or completion "
        "length.",
    )


def test_create_completion_context_length_counts_the_default_max_tokens(api: httpx.Client, model: str) -> None:
    prompt = "hello" + " hello" * 2039
    response = api.post("/completions", json={"model": model, "prompt": ["short", prompt]})
    assert_error(
        response,
        400,
        "This model's maximum context length is 2049 tokens, however you requested 2056 "
        "tokens (2040 in your prompt; 16 for the completion). Please reduce your prompt; or completion "
        "length.",
    )
    assert complete(api, model=model, prompt=prompt, max_tokens=9)["usage"]["prompt_tokens"] == 2040


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("temperature", 2.5, "2.5 is greater than the maximum of 2 - 'temperature'"),
        ("top_p", -0.1, "-0.1 is less than the minimum of 0 - 'top_p'"),
        ("n", 0, "0 is less than the minimum of 1 - 'n'"),
        ("n", 129, "129 is greater than the maximum of 128 - 'n'"),
        ("max_tokens", -1, "-1 is less than the minimum of 0 - 'max_tokens'"),
        ("logprobs", 6, "6 is greater than the maximum of 5 - 'logprobs'"),
        ("best_of", 21, "21 is greater than the maximum of 20 - 'best_of'"),
        ("presence_penalty", 2.5, "2.5 is greater than the maximum of 2 - 'presence_penalty'"),
        ("frequency_penalty", -3, "-3 is less than the minimum of -2 - 'frequency_penalty'"),
        ("max_tokens", "5", "'5' is not of type 'integer' - 'max_tokens'"),
        ("echo", "yes", "'yes' is not of type 'boolean' - 'echo'"),
        ("stop", ["a", "b", "c", "d", "e"], "['a', 'b', 'c', 'd', 'e'] is too long - 'stop'"),
        ("stop", 5, "5 is not valid under any of the given schemas - 'stop'"),
        ("prompt", [], "[] is not valid under any of the given schemas - 'prompt'"),
        ("prompt", ["a", 1], "['a', 1] is not valid under any of the given schemas - 'prompt'"),
        ("prompt", [50257], "Invalid token 50257 in 'prompt': token ids must be between 0 and 50256."),
        ("logit_bias", {"11": 101}, "101 is not a number between -100 and 100 - 'logit_bias.11'"),
        ("logit_bias", [1], "[1] is not of type 'object' - 'logit_bias'"),
        ("logit_bias", {"x": 1}, "Invalid key in 'logit_bias': x. Keys must be token ids."),
        ("logit_bias", {"²": 1}, "Invalid key in 'logit_bias': ². Keys must be token ids."),
    ],
)
def test_create_completion_invalid_parameter_is_400(api: httpx.Client, field: str, value: Any, message: str) -> None:
    response = api.post("/completions", json={"model": "ada", "prompt": "Hi", field: value})
    assert_error(response, 400, message, param=field)


def test_create_completion_best_of_below_n_is_400(api: httpx.Client) -> None:
    response = api.post("/completions", json={"model": "ada", "prompt": "Hi", "n": 3, "best_of": 2})
    assert_error(response, 400, "best_of (2) must be greater than or equal to n (3).", param="best_of")


def test_create_completion_stream_with_best_of_is_400(api: httpx.Client) -> None:
    response = api.post("/completions", json={"model": "ada", "prompt": "Hi", "best_of": 2, "stream": True})
    assert_error(response, 400, "Cannot stream results when best_of is greater than n.", param="best_of")


def test_create_completion_missing_model_is_400(api: httpx.Client) -> None:
    assert_error(api.post("/completions", json={"prompt": "Hi"}), 400, "You must provide a model parameter")


def test_create_completion_unknown_argument_is_400(api: httpx.Client) -> None:
    response = api.post("/completions", json={"model": "ada", "prompt": "Hi", "engine": "x"})
    assert_error(response, 400, "Unrecognized request argument supplied: engine")


def test_create_completion_unknown_model_is_404(client: httpx.Client) -> None:
    response = client.post("/completions", json={"model": "curie:ft-personal-2023-01-01-00-00-00", "prompt": "x"})
    assert_error(
        response, 404, "The model `curie:ft-personal-2023-01-01-00-00-00` does not exist", code="model_not_found"
    )


def test_create_completion_requires_a_key(app: Starlette) -> None:
    response = in_process(app, headers={}).post("/completions", json={"model": "ada", "prompt": "Hi"})
    assert response.status_code == 401


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=3),
    max_leaves=8,
)
FIELDS = sorted(KNOWN_FIELDS - {"model"})


@pytest.fixture(scope="module")
def fuzz_api() -> Iterator[TestClient]:
    app = create_app(fast_settings())
    yield in_process(app)
    app.state.core.close()


@settings(max_examples=300, deadline=None)
@given(body=st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES, max_size=6), model=st.sampled_from(["ada", "x"]))
def test_create_completion_never_fails_on_arbitrary_fields(
    fuzz_api: TestClient, body: dict[str, Any], model: str
) -> None:
    body = {**body, "model": model}
    if isinstance(body.get("max_tokens"), int) and not isinstance(body["max_tokens"], bool):
        body["max_tokens"] = min(body["max_tokens"], 64)
    response = fuzz_api.post("/completions", json=body)
    assert response.status_code in (200, 400, 404), response.text
    if response.status_code != 200:
        assert list(response.json()["error"]) == ["message", "type", "param", "code"]
