"""The one JSON reader (http/params.load_json) and the checks that used to let NaN, surrogates and depth through."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from emulator import Settings, create_app
from emulator.core.errors import INVALID_JSON_BODY, APIError
from emulator.core.json_reader import MAX_DEPTH, JSONRefused, load_json
from emulator.http import params
from emulator.legacy.training_file import JSONL_PREFIX, TrainingFileChecker, parse_line
from tests.conftest import assert_error, capitals, in_process, jsonl, upload


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"a": NaN}', "syntax"),
        (b'{"a": Infinity}', "syntax"),
        (b'{"a": -Infinity}', "syntax"),
        (b'{"a": 1e400}', "syntax"),
        (b'{"a": "\\ud800"}', "unicode"),
        (b'{"\\udfff": 1}', "unicode"),
        (b'["x", ["\\uDBFF"]]', "unicode"),
        (b'{"a": "\xff"}', "unicode"),
        (b"[" * 100_000, "depth"),
        (b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), "depth"),
        (b'{"a": ' + b"[" * MAX_DEPTH + b"]" * MAX_DEPTH + b"}", "depth"),
        (b"1" * 5000, "syntax"),
        (b"{", "syntax"),
    ],
)
def test_load_json_refuses(raw: bytes, reason: str) -> None:
    with pytest.raises(JSONRefused) as refused:
        load_json(raw)
    assert refused.value.reason == reason


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": "\\ud83d\\ude00"}',  # a surrogate pair is one character
        b'{"a": 1e300, "b": -0.0}',
        b"[" * MAX_DEPTH + b"]" * MAX_DEPTH,
        '{"a": "ünïcode ✓"}'.encode(),
    ],
)
def test_load_json_accepts(raw: bytes) -> None:
    load_json(raw)


def test_load_json_pair_is_one_character() -> None:
    assert load_json(b'"\\ud83d\\ude00"') == "\U0001f600"


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_number_refuses_non_finite(value: float) -> None:
    with pytest.raises(APIError) as raised:
        params.number({"t": value}, "t", minimum=0, maximum=2)
    assert (raised.value.status, raised.value.param) == (400, "t")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b'{"prompt": "\\ud800", "completion": " b"}', f"{JSONL_PREFIX} Line 1 is not valid UTF-8."),
        (
            b'{"prompt": ' + b"[" * 100_000 + b"}",
            f"{JSONL_PREFIX} Line 1 nests more than {MAX_DEPTH} levels deep.",
        ),
        (
            b'{"prompt": NaN, "completion": " b"}',
            f'{JSONL_PREFIX} Line 1 is not a dictionary (HINT: line starts with: "{{"p...").',
        ),
    ],
)
def test_training_line_refused(line: bytes, message: str) -> None:
    found = parse_line(1, line)
    assert not isinstance(found, type(None)) and getattr(found, "message", None) == message
    checker = TrainingFileChecker()
    assert checker.feed(line + b"\n") is not None


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/completions", b'{"model": "ada", "prompt": "\\ud800"}'),
        ("/completions", b'{"model": "ada", "prompt": "x", "suffix": "\\udc00"}'),
        ("/completions", b'{"model": "\\ud800", "prompt": "x"}'),
        ("/completions", b"[" * 100_000),
        ("/completions", b'{"model": "ada", "prompt": "x", "temperature": NaN}'),
        ("/completions", b'{"model": "ada", "prompt": "x", "top_p": Infinity}'),
        ("/fine-tunes", b'{"training_file": "\\ud800"}'),
        ("/fine-tunes", b'{"training_file": "file-x", "learning_rate_multiplier": NaN}'),
        ("/fine-tunes", b'{"training_file": "file-x", "prompt_loss_weight": NaN}'),
        ("/fine-tunes", b'{"training_file": "file-x", "suffix": "\\ud800"}'),
        ("/fine-tunes", b'{"training_file": ' + b"{" * 100_000),
    ],
)
def test_json_bodies_refused_with_the_envelope(client: httpx.Client, path: str, body: bytes) -> None:
    response = client.post(path, content=body, headers={"content-type": "application/json"})
    assert_error(response, 400, INVALID_JSON_BODY)


def test_upload_with_a_lone_surrogate_is_refused(client: httpx.Client) -> None:
    data = jsonl(capitals(2)) + b'{"prompt": "\\ud800 ->", "completion": " b\\n"}\n'
    response = client.post("/files", files={"file": ("t.jsonl", data)}, data={"purpose": "fine-tune"})
    assert_error(response, 400, f"{JSONL_PREFIX} Line 3 is not valid UTF-8.")
    assert client.get("/files").json()["data"] == []


@pytest.mark.parametrize("seconds", ["NaN", "Infinity", "-Infinity", "1e300", "-1", "315360001"])
def test_clock_advance_refuses_unbounded_seconds(make_app: Callable[..., Starlette], seconds: str) -> None:

    api = in_process(make_app())
    before = api.get("http://testserver/_emulator/clock").json()["now"]
    response = api.post("http://testserver/_emulator/clock/advance", content=f'{{"seconds": {seconds}}}'.encode())
    assert response.status_code == 400 and response.json()["error"]["param"] in (None, "seconds")
    assert api.get("http://testserver/_emulator/clock").json()["now"] == before
    upload(api, capitals(2))


def test_clock_advance_cannot_pass_the_year_9999(make_app: Callable[..., Starlette]) -> None:

    api = in_process(make_app(clock_start="9999-12-31T00:00:00Z"))
    assert_error(
        api.post("http://testserver/_emulator/clock/advance", json={"seconds": 86_400}),
        400,
        "The clock cannot move past 9999-12-31T23:59:59Z.",
        param="seconds",
    )
    assert api.post("http://testserver/_emulator/clock/advance", json={"seconds": 86_399}).status_code == 200


@pytest.mark.parametrize("saved", ["nan", "inf", "1e300"])
def test_start_on_a_data_dir_with_a_bad_saved_clock(tmp_path: Path, saved: str) -> None:
    settings = Settings(data_dir=str(tmp_path), clock="manual", seed=1)
    first = create_app(settings)
    first.state.core.store.set_meta("clock", saved)
    first.state.core.close()
    again = create_app(settings)
    try:
        assert again.state.core.clock.now() == settings.clock_start_seconds
    finally:
        again.state.core.close()
