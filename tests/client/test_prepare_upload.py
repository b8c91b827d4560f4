"""Prepared files against the emulator's `POST /v1/files`: accepted when prepared, rejected when reported broken."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from client.prepare import PrepareError, check, fix, read_any, write_jsonl
from conformance.strategies import jsonl_lines, training_files
from emulator import create_app
from tests.conftest import fast_settings, in_process

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def emulator() -> Iterator[httpx.Client]:
    app = create_app(fast_settings())
    try:
        yield in_process(app)
    finally:
        app.state.core.close()


def post_file(http: httpx.Client, data: bytes) -> httpx.Response:
    return http.post("/files", files={"file": ("train.jsonl", data)}, data={"purpose": "fine-tune"})


@FAST
@given(records=training_files())
def test_upload_file_accepts_every_prepared_file(emulator: httpx.Client, records: list[dict[str, str]]) -> None:
    try:
        table = fix(records)
    except PrepareError:
        return
    if len(table) == 0:
        return  # everything was dropped (all completions empty): the tool writes an empty file
    out = io.StringIO()
    write_jsonl(table, out)
    response = post_file(emulator, out.getvalue().encode())
    assert response.status_code == 200, response.text


def reported_broken(data: bytes) -> bool:
    """The tool cannot read prompt/completion records from it: a read error or a missing column."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "train.jsonl"
        path.write_bytes(data)
        try:
            table = read_any(str(path))
        except PrepareError:
            return True
    return check(table)[-1].name == "necessary_column" and check(table)[-1].error is not None


@FAST
@given(lines=st.lists(jsonl_lines(), min_size=2, max_size=6))
def test_upload_file_rejects_what_the_tool_reports_broken(emulator: httpx.Client, lines: list[str]) -> None:
    data = "\n".join(lines).encode() + b"\n"
    if reported_broken(data):
        response = post_file(emulator, data)
        assert response.status_code == 400, response.text
        assert set(response.json()["error"]) == {"message", "type", "param", "code"}


def test_upload_file_accepts_the_prepared_fixtures(emulator: httpx.Client, tmp_path: Path) -> None:
    from tests.conftest import FIXTURES

    for name in ("valid.jsonl", "no_separator.jsonl", "extra_columns.csv", "uppercase_columns.csv", "two_sheets.xlsx"):
        out = io.StringIO()
        write_jsonl(fix(read_any(str(FIXTURES / "prepare" / name))), out)
        assert post_file(emulator, out.getvalue().encode()).status_code == 200, name
