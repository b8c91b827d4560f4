"""Bad input across every endpoint (§9): one table, each row's status, envelope type and param; never a 5xx.

Rows use `{file}` and `{job}` for a live training file and fine-tune of the test's own. Each row runs on a clean
slate, and the last test sends the whole table again on one instance without resets and checks that the server
still does the whole lifecycle afterwards.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx2 as httpx
import pytest

from conformance.handle import Ftemu
from conformance.suite.support import capitals, create_fine_tune, jsonl, training_file

behaviour = pytest.mark.behaviour
BAD = "invalid_request_error"
DEEP = b"[" * 100_000
JSON = {"content-type": "application/json"}


@dataclass(frozen=True)
class Row:
    """One bad request and what it must get back."""

    name: str
    method: str
    path: str
    status: int
    param: str | None = None
    type: str = BAD
    json: Any = None
    content: bytes | None = None
    params: dict[str, str] = field(default_factory=dict)
    upload: bytes | None = None
    form: dict[str, str] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    control: bool = False


def _body(text: str) -> bytes:
    return text.encode()


def completion(name: str, raw: str | bytes, status: int = 400, param: str | None = None) -> Row:
    content = raw if isinstance(raw, bytes) else raw.encode()
    return Row(name, "POST", "/completions", status, param, content=content, headers=JSON)


def fine_tune(name: str, raw: str | bytes, status: int = 400, param: str | None = None) -> Row:
    content = raw if isinstance(raw, bytes) else raw.encode()
    return Row(name, "POST", "/fine-tunes", status, param, content=content, headers=JSON)


def upload(name: str, data: bytes, status: int = 400, param: str | None = None, purpose: str = "fine-tune") -> Row:
    return Row(name, "POST", "/files", status, param, upload=data, form={"purpose": purpose})


def clock(name: str, raw: str, param: str | None = "seconds") -> Row:
    return Row(name, "POST", "/clock/advance", 400, param, content=raw.encode(), headers=JSON, control=True)


GOOD = '"model": "ada", "prompt": "Hello"'
FT = '"training_file": "{file}"'
LINE = jsonl(capitals(2))

ROWS = [
    # Request bodies that are not strict JSON, or not valid Unicode, or nested without end
    completion("completion NaN temperature", f'{{{GOOD}, "temperature": NaN}}'),
    completion("completion Infinity top_p", f'{{{GOOD}, "top_p": Infinity}}'),
    completion("completion -Infinity penalty", f'{{{GOOD}, "presence_penalty": -Infinity}}'),
    completion("completion overflowing number", f'{{{GOOD}, "temperature": 1e400}}'),
    completion("completion lone surrogate prompt", '{"model": "ada", "prompt": "\\ud800"}'),
    completion("completion lone surrogate in a prompt list", '{"model": "ada", "prompt": ["ok", "\\udfff"]}'),
    completion("completion lone surrogate suffix", f'{{{GOOD}, "suffix": "\\udc00"}}'),
    completion("completion lone surrogate model", '{"model": "\\ud800", "prompt": "x"}'),
    completion("completion lone surrogate stop", f'{{{GOOD}, "stop": "\\ud800"}}'),
    completion("completion lone surrogate key", '{"model": "ada", "\\ud800": 1}'),
    completion("completion 100,000 brackets", DEEP),
    completion("completion deep prompt", b'{"model": "ada", "prompt": ' + b"[" * 5000 + b"]" * 5000 + b"}"),
    completion("completion body is a list", "[]"),
    completion("completion body is null", "null"),
    completion("completion body is a string", '"hello"'),
    completion("completion body not UTF-8", b'{"model": "ada", "prompt": "\xff\xfe"}'),
    completion("completion truncated JSON", '{"model": "ada", "prompt": "Hel'),
    completion("completion huge integer literal", f'{{{GOOD}, "max_tokens": {"9" * 5000}}}'),
    # Completion parameters
    completion("completion no model", '{"prompt": "x"}'),
    completion("completion model not a string", '{"model": 3, "prompt": "x"}', param="model"),
    completion("completion unknown model", '{"model": "gpt-9", "prompt": "x"}', 404),
    completion("completion temperature above 2", f'{{{GOOD}, "temperature": 3}}', param="temperature"),
    completion("completion temperature a string", f'{{{GOOD}, "temperature": "hot"}}', param="temperature"),
    completion("completion top_p above 1", f'{{{GOOD}, "top_p": 1.5}}', param="top_p"),
    completion("completion max_tokens negative", f'{{{GOOD}, "max_tokens": -1}}', param="max_tokens"),
    completion("completion max_tokens past the context", f'{{{GOOD}, "max_tokens": 1000000000000000000000}}'),
    completion("completion n zero", f'{{{GOOD}, "n": 0}}', param="n"),
    completion("completion n above 128", f'{{{GOOD}, "n": 129}}', param="n"),
    completion("completion n a float", f'{{{GOOD}, "n": 1.5}}', param="n"),
    completion("completion logprobs above 5", f'{{{GOOD}, "logprobs": 6}}', param="logprobs"),
    completion("completion best_of below n", f'{{{GOOD}, "n": 3, "best_of": 2}}', param="best_of"),
    completion("completion echo not a boolean", f'{{{GOOD}, "echo": "yes"}}', param="echo"),
    completion("completion stream not a boolean", f'{{{GOOD}, "stream": 1}}', param="stream"),
    completion("completion presence_penalty above 2", f'{{{GOOD}, "presence_penalty": 2.5}}', param="presence_penalty"),
    completion("completion unknown argument", f'{{{GOOD}, "temperatur": 1}}'),
    # Fine-tune creation
    fine_tune("fine-tune empty body", "{}", param="training_file"),
    fine_tune("fine-tune unknown training file", '{"training_file": "file-nope"}', param="training_file"),
    fine_tune("fine-tune training file not a string", '{"training_file": 7}', param="training_file"),
    fine_tune("fine-tune lone surrogate file id", '{"training_file": "\\ud800"}'),
    fine_tune("fine-tune lone surrogate suffix", f'{{{FT}, "suffix": "\\ud800"}}'),
    fine_tune("fine-tune NaN learning_rate_multiplier", f'{{{FT}, "learning_rate_multiplier": NaN}}'),
    fine_tune("fine-tune NaN prompt_loss_weight", f'{{{FT}, "prompt_loss_weight": NaN}}'),
    fine_tune("fine-tune Infinity n_epochs", f'{{{FT}, "n_epochs": Infinity}}'),
    fine_tune("fine-tune 100,000 braces", b'{"training_file": ' + b"{" * 100_000),
    fine_tune("fine-tune n_epochs zero", f'{{{FT}, "n_epochs": 0}}', param="n_epochs"),
    fine_tune("fine-tune n_epochs above 50", f'{{{FT}, "n_epochs": 51}}', param="n_epochs"),
    fine_tune("fine-tune n_epochs a string", f'{{{FT}, "n_epochs": "4"}}', param="n_epochs"),
    fine_tune("fine-tune n_epochs a float", f'{{{FT}, "n_epochs": 4.5}}', param="n_epochs"),
    fine_tune("fine-tune batch_size zero", f'{{{FT}, "batch_size": 0}}', param="batch_size"),
    fine_tune("fine-tune lrm zero", f'{{{FT}, "learning_rate_multiplier": 0}}', param="learning_rate_multiplier"),
    fine_tune("fine-tune lrm above 10", f'{{{FT}, "learning_rate_multiplier": 11}}', param="learning_rate_multiplier"),
    fine_tune(
        "fine-tune prompt_loss_weight negative", f'{{{FT}, "prompt_loss_weight": -0.1}}', param="prompt_loss_weight"
    ),
    fine_tune("fine-tune suffix too long", f'{{{FT}, "suffix": "{"s" * 41}"}}', param="suffix"),
    fine_tune("fine-tune unknown model", f'{{{FT}, "model": "gpt-9"}}', param="model"),
    fine_tune(
        "fine-tune unknown validation file", f'{{{FT}, "validation_file": "file-nope"}}', param="validation_file"
    ),
    fine_tune(
        "fine-tune classification without validation file",
        f'{{{FT}, "compute_classification_metrics": true, "classification_n_classes": 2}}',
        param="validation_file",
    ),
    fine_tune("fine-tune body is a list", "[1]"),
    # Files: upload, list paging, unknown ids
    upload("upload line with a lone surrogate", LINE + b'{"prompt": "\\ud800", "completion": " b"}\n'),
    upload("upload line with NaN", LINE + b'{"prompt": NaN, "completion": " b"}\n'),
    upload("upload line nested 100,000 deep", LINE + b'{"prompt": ' + DEEP + b"\n"),
    upload("upload line not UTF-8", LINE + b'{"prompt": "\xff", "completion": " b"}\n'),
    upload("upload line not an object", LINE + b"[1, 2]\n"),
    upload("upload empty file", b""),
    upload("upload unknown purpose", LINE, param="purpose", purpose="search"),
    Row("upload without purpose", "POST", "/files", 400, "purpose", upload=LINE, form={}),
    Row("upload without file", "POST", "/files", 400, "file", form={"purpose": "fine-tune"}),
    Row("upload as JSON", "POST", "/files", 400, "file", json={"purpose": "fine-tune"}),
    Row("list files limit zero", "GET", "/files", 400, "limit", params={"limit": "0"}),
    Row("list files limit above 10,000", "GET", "/files", 400, "limit", params={"limit": "10001"}),
    Row("list files limit negative", "GET", "/files", 400, "limit", params={"limit": "-1"}),
    Row("list files limit a word", "GET", "/files", 400, "limit", params={"limit": "ten"}),
    Row("list files limit empty", "GET", "/files", 400, "limit", params={"limit": ""}),
    Row("list files order sideways", "GET", "/files", 400, "order", params={"order": "sideways"}),
    Row("list files after unknown id", "GET", "/files", 400, "after", params={"after": "file-nope"}),
    Row("retrieve unknown file", "GET", "/files/file-nope", 404, "id"),
    Row("retrieve file id not UTF-8", "GET", "/files/%ED%A0%80", 404, "id"),
    Row("delete unknown file", "DELETE", "/files/file-nope", 404, "id"),
    Row("download unknown file", "GET", "/files/file-nope/content", 404, "id"),
    # Fine-tunes and models by id
    Row("retrieve unknown fine-tune", "GET", "/fine-tunes/ft-nope", 404, "id"),
    Row("cancel unknown fine-tune", "POST", "/fine-tunes/ft-nope/cancel", 404, "id"),
    Row("events of unknown fine-tune", "GET", "/fine-tunes/ft-nope/events", 404, "id"),
    Row("events stream not a boolean", "GET", "/fine-tunes/{job}/events", 400, "stream", params={"stream": "maybe"}),
    Row("retrieve unknown model", "GET", "/models/gpt-9", 404, "model"),
    Row("delete a base model", "DELETE", "/models/curie", 403, "model"),
    Row("delete unknown model", "DELETE", "/models/curie:ft-nope", 404, "model"),
    # Routes and keys
    Row("wrong method on a known path", "PATCH", "/files", 404),
    Row("unknown route", "GET", "/nope", 404),
    Row("no key", "GET", "/models", 401, headers={"Authorization": ""}),
    Row("not a bearer key", "GET", "/models", 401, headers={"Authorization": "Basic c2stYQ=="}),
    # The control plane's clock: finite, bounded advances only
    clock("advance NaN", '{"seconds": NaN}', None),
    clock("advance Infinity", '{"seconds": Infinity}', None),
    clock("advance 1e300", '{"seconds": 1e300}'),
    clock("advance negative", '{"seconds": -1}'),
    clock("advance a word", '{"seconds": "ten"}'),
    clock("advance without seconds", "{}"),
    Row("fail unknown fine-tune", "POST", "/fine-tunes/ft-nope/fail", 404, "id", json={}, control=True),
]


def _fill(text: str, names: dict[str, str]) -> str:
    for key, value in names.items():
        text = text.replace("{" + key + "}", value)
    return text


def send(ftemu: Ftemu, row: Row, names: dict[str, str]) -> httpx.Response:
    """Send one row, `{file}` and `{job}` filled in."""
    url = ftemu.instance.control_url(_fill(row.path, names)) if row.control else _fill(row.path, names)
    headers = dict(row.headers)
    if row.upload is not None or row.form is not None:
        files = {"file": ("train.jsonl", row.upload)} if row.upload is not None else None
        return ftemu.http.post(url, files=files, data=row.form or {}, headers=headers)
    content = row.content
    if content is not None:
        content = _fill(content.decode("utf-8", "surrogateescape"), names).encode("utf-8", "surrogateescape")
    if row.json is not None:
        content, headers = json.dumps(row.json).encode(), {**headers, **JSON}
    return ftemu.http.request(row.method, url, content=content, params=row.params, headers=headers)


def names_for(ftemu: Ftemu, rows: list[Row]) -> dict[str, str]:
    """A live training file and fine-tune, made only when a row needs them."""
    text = " ".join(row.path + (row.content or b"").decode("utf-8", "replace") for row in rows)
    names: dict[str, str] = {}
    if "{file}" in text or "{job}" in text:
        names["file"] = training_file(ftemu)
    if "{job}" in text:
        names["job"] = create_fine_tune(ftemu, training_file=names["file"])["id"]
    return names


def check(response: httpx.Response, row: Row) -> None:
    assert response.status_code < 500, f"{row.name}: {response.status_code} {response.text[:300]}"
    assert response.status_code == row.status, f"{row.name}: {response.status_code} {response.text[:300]}"
    if row.method == "HEAD":
        return
    error = response.json()["error"]
    assert list(error) == ["message", "type", "param", "code"], row.name
    assert (error["type"], error["param"]) == (row.type, row.param), f"{row.name}: {error}"
    assert isinstance(error["message"], str) and error["message"], row.name


def _needs_control(row: Row, ftemu: Ftemu) -> None:
    if row.control and not ftemu.emulator:
        pytest.skip("needs ftemu's /_emulator control plane")


@behaviour("§9", "Bad input anywhere gets the envelope with its status, type and param, never a 5xx")
@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_bad_input_gets_the_envelope(ftemu: Ftemu, row: Row) -> None:
    _needs_control(row, ftemu)
    check(send(ftemu, row, names_for(ftemu, [row])), row)


@pytest.mark.emulator_only
@behaviour("§9", "After the whole bad-input table on one server, the lifecycle, lists and completions still work")
def test_server_healthy_after_the_bad_input_table(ftemu: Ftemu) -> None:
    names = names_for(ftemu, ROWS)
    for row in ROWS:
        check(send(ftemu, row, names), row)
    file_id = ftemu.upload(jsonl(capitals(3)))["id"]
    job = create_fine_tune(ftemu, training_file=file_id)
    assert ftemu.wait_for_fine_tune(job["id"])["status"] == "succeeded"
    listed = ftemu.http.get("/files", params={"limit": 1, "purpose": "fine-tune"}).json()
    assert listed["data"][0]["id"] == file_id and listed["has_more"] is True
    answer = ftemu.http.post("/completions", json={"model": "ada", "prompt": "Hello", "n": 3, "max_tokens": 4})
    assert answer.status_code == 200 and len(answer.json()["choices"]) == 3
    assert ftemu.http.get("/models").status_code == 200
