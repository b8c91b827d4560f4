"""Completions (§2.14): the response object, usage, echo, n, logprobs, streaming, errors, tuned models."""

from __future__ import annotations

import re
from typing import Any

import pytest

from conformance.handle import Ftemu
from conformance.suite.support import assert_error, create_fine_tune
from emulator.core.tokens import r50k_base

behaviour = pytest.mark.behaviour
pytestmark = pytest.mark.spend(0.01)
KEYS = ["id", "object", "created", "model", "choices", "usage"]
CHOICE_KEYS = ["text", "index", "logprobs", "finish_reason"]
R50K = r50k_base()  # the offline copy of the GPT-3 tokenizer (§6)


def complete(ftemu: Ftemu, path: str = "/completions", **body: Any) -> dict[str, Any]:
    response = ftemu.http.post(path, json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


@behaviour("§2.14", "A completion is `text_completion` in the real key order, `cmpl-` id, exact r50k usage")
def test_create_completion_returns_the_object(ftemu: Ftemu) -> None:
    prompt = "The capital of France is"
    body = complete(ftemu, model="ada", prompt=prompt, max_tokens=5)
    assert list(body) == KEYS and body["object"] == "text_completion" and body["model"] == "ada"
    assert re.fullmatch(r"cmpl-[A-Za-z0-9]{24,29}", body["id"]) and isinstance(body["created"], int)
    (choice,) = body["choices"]
    assert list(choice) == CHOICE_KEYS and choice["index"] == 0 and choice["logprobs"] is None
    assert choice["finish_reason"] in ("stop", "length")
    usage = body["usage"]
    assert usage["prompt_tokens"] == len(R50K.encode(prompt))
    assert 0 < usage["completion_tokens"] <= 5
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


@behaviour("§2.14", "`finish_reason` is `length` when max_tokens cuts the text short")
def test_create_completion_max_tokens_is_length(ftemu: Ftemu) -> None:
    body = complete(ftemu, model="ada", prompt="Once upon a time", max_tokens=1)
    choice = body["choices"][0]
    assert (choice["finish_reason"], body["usage"]["completion_tokens"]) == ("length", 1)
    assert len(R50K.encode(choice["text"])) == 1


@behaviour("§1.3, §8.2", "The CLI's body (every option null, echo true) works: the text starts with the prompt")
def test_create_completion_cli_body_with_echo(ftemu: Ftemu) -> None:
    body = complete(
        ftemu,
        model="ada",
        n=None,
        max_tokens=5,
        logprobs=None,
        prompt="Hello",
        stream=False,
        temperature=None,
        top_p=None,
        stop=None,
        echo=True,
    )
    assert body["choices"][0]["text"].startswith("Hello")


@behaviour("§2.14", "`n` choices come back indexed 0..n-1")
def test_create_completion_n_choices(ftemu: Ftemu) -> None:
    body = complete(ftemu, model="ada", prompt="Hello", max_tokens=3, n=3)
    assert [choice["index"] for choice in body["choices"]] == [0, 1, 2]


@behaviour("§2.14", "`logprobs: k` gives tokens, token_logprobs, top_logprobs (≤ k each) and text_offset")
def test_create_completion_logprobs(ftemu: Ftemu) -> None:
    body = complete(ftemu, model="ada", prompt="Hello", max_tokens=3, logprobs=2)
    logprobs = body["choices"][0]["logprobs"]
    assert list(logprobs) == ["tokens", "token_logprobs", "top_logprobs", "text_offset"]
    assert len(logprobs["tokens"]) == len(logprobs["token_logprobs"]) == len(logprobs["text_offset"]) == 3
    assert "".join(logprobs["tokens"]) == body["choices"][0]["text"]
    assert all(len(top) <= 2 for top in logprobs["top_logprobs"])
    assert all(value <= 0 for value in logprobs["token_logprobs"])


@behaviour(
    "§2.14, §1.5", "`stream: true` sends `text_completion` chunks as SSE, the last with a finish_reason, then `[DONE]`"
)
def test_create_completion_stream(ftemu: Ftemu) -> None:
    body = {"model": "ada", "prompt": "Hello", "max_tokens": 4, "stream": True}
    with ftemu.http.stream("POST", "/completions", json=body) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        payloads = list(ftemu.sse_payloads(response.iter_lines(), "CreateCompletionResponse"))
    assert payloads[-1] == "[DONE]"
    chunks = [p for p in payloads[:-1] if isinstance(p, dict)]
    assert chunks and all(c["object"] == "text_completion" and c["id"] == chunks[0]["id"] for c in chunks)
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks[:-1])
    assert chunks[-1]["choices"][0]["finish_reason"] in ("stop", "length")


@behaviour("§2.14", "The same request also works at `POST /engines/{model}/completions` (CLI `-e`)")
def test_create_completion_engines_path(ftemu: Ftemu) -> None:
    body = complete(ftemu, "/engines/ada/completions", prompt="Hello", max_tokens=2)
    assert body["object"] == "text_completion" and len(body["choices"]) == 1


@behaviour("§9.2", "An unknown model is a 404 ``The model `X` does not exist`` with code `model_not_found`")
def test_create_completion_unknown_model_is_404(ftemu: Ftemu) -> None:
    response = ftemu.http.post("/completions", json={"model": "nope", "prompt": "Hello"})
    assert_error(response, 404, "The model `nope` does not exist", code="model_not_found")


@behaviour(
    "§2.14, §9.2", "Prompt + max_tokens over 2049 tokens: 400 `This model's maximum context length is 2049 tokens`"
)
def test_create_completion_too_long_is_400(ftemu: Ftemu) -> None:
    prompt = "Hello " * 30
    tokens = len(R50K.encode(prompt))
    response = ftemu.http.post("/completions", json={"model": "ada", "prompt": prompt, "max_tokens": 2040})
    assert_error(
        response,
        400,
        f"This model's maximum context length is 2049 tokens, however you requested "
        f"{tokens + 2040} tokens ({tokens} in your prompt; 2040 for the completion). Please reduce your "
        "prompt; or completion length.",
    )


@behaviour("§2.14", "A fine-tuned model answers completions under its own name")
def test_create_completion_with_a_fine_tuned_model(ftemu: Ftemu) -> None:
    name = ftemu.wait_for_fine_tune(create_fine_tune(ftemu)["id"], {"succeeded"})["fine_tuned_model"]
    body = complete(ftemu, model=name, prompt="The capital of Country3 is\n\n###\n\n", max_tokens=5, stop=["\n"])
    assert body["model"] == name and isinstance(body["choices"][0]["text"], str)


@behaviour("§2.14", "The current `openai` SDK's `completions.create` works against the target")
def test_create_completion_with_the_openai_sdk(openai_client: Any) -> None:
    completion = openai_client.completions.create(model="babbage", prompt="Hello", max_tokens=3)
    assert completion.object == "text_completion" and completion.choices[0].index == 0
    assert completion.usage.prompt_tokens == 1


@behaviour("§2.14", "A stop sequence ends the text before it, with `finish_reason: stop`; the stop is not included")
def test_create_completion_stop_sequence(ftemu: Ftemu) -> None:
    free = complete(ftemu, model="ada", prompt="Hello", max_tokens=60, temperature=0)["choices"][0]["text"]
    letter = next((c for c in free[1:] if c.isalpha()), None)
    assert letter is not None, free
    choice = complete(ftemu, model="ada", prompt="Hello", max_tokens=60, temperature=0, stop=letter)["choices"][0]
    assert letter not in choice["text"] and choice["finish_reason"] == "stop"
    assert free.startswith(choice["text"])


@behaviour("§2.14", "More than 4 stop sequences are refused with a 400 on `stop`")
def test_create_completion_too_many_stops_is_400(ftemu: Ftemu) -> None:
    response = ftemu.http.post("/completions", json={"model": "ada", "prompt": "Hi", "stop": ["a", "b", "c", "d", "e"]})
    assert response.status_code == 400
    assert (response.json()["error"]["type"], response.json()["error"]["param"]) == ("invalid_request_error", "stop")
