"""Properties of data preparation (Hypothesis): fixing converges, nothing crashes, formats round-trip exactly."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path
from typing import Any

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from client.prepare import PrepareError, check, fix, read_any
from client.prepare.analysis import pending
from client.prepare.cli import build_parser, run
from client.prepare.writer import escaped_lines, quote
from conformance.strategies import NA_WORDS, file_formats, json_values, texts, training_files

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def fixed_or_none(records: list[dict[str, str]], *, until_stable: bool) -> Any:
    try:
        return fix(records, until_stable=until_stable)
    except PrepareError:
        return None  # e.g. all prompts identical: a clear error, covered by its own tests


@FAST
@given(training_files())
def test_fix_until_stable_is_idempotent(records: list[dict[str, str]]) -> None:
    once = fixed_or_none(records, until_stable=True)
    if once is not None:
        assert fix(once, until_stable=True).records() == once.records()


@FAST
@given(training_files())
def test_fix_until_stable_leaves_nothing_to_fix(records: list[dict[str, str]]) -> None:
    fixed = fixed_or_none(records, until_stable=True)
    if fixed is not None:
        assert pending(check(fixed)) == []


@FAST
@given(training_files())
def test_fix_single_pass_leaves_no_necessary_fix(records: list[dict[str, str]]) -> None:
    fixed = fixed_or_none(records, until_stable=False)
    if fixed is not None:
        assert [f.necessary for f in check(fixed) if f.necessary] == []


def run_tool(directory: Path, name: str, data: bytes, *, write: bool = False) -> int:
    (directory / name).write_bytes(data)
    args = build_parser().parse_args(["-f", str(directory / name), "-q", *([] if write else ["--check"])])
    out, err = io.StringIO(), io.StringIO()
    code = run(args, stdin=io.StringIO(), stdout=out, stderr=err)
    assert code in (0, 1, 3)
    if code == 1:
        assert err.getvalue().startswith("\n\nERROR in ") and err.getvalue().endswith("\n\nAborting...")
    return code


@FAST
@given(st.binary(max_size=300), file_formats(), st.booleans())
def test_prepare_data_arbitrary_bytes_give_a_result_or_a_clear_error(data: bytes, extension: str, write: bool) -> None:
    with tempfile.TemporaryDirectory() as directory:
        run_tool(Path(directory), f"input.{extension}", data, write=write)


@FAST
@given(st.lists(json_values(), max_size=6), st.booleans())
def test_prepare_data_arbitrary_json_gives_a_result_or_a_clear_error(values: list[Any], as_lines: bool) -> None:
    with tempfile.TemporaryDirectory() as directory:
        if as_lines:
            run_tool(Path(directory), "input.jsonl", "\n".join(json.dumps(v) for v in values).encode(), write=True)
        else:
            run_tool(Path(directory), "input.json", json.dumps(values).encode(), write=True)


def cells(**options: Any) -> st.SearchStrategy[str]:
    return texts(**options).filter(lambda s: s not in NA_WORDS)


def rows(**options: Any) -> st.SearchStrategy[list[tuple[str, str]]]:
    return st.lists(st.tuples(cells(**options), cells(**options)), min_size=1, max_size=8)


def read_back(name: str, data: bytes) -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / name
        path.write_bytes(data)
        table = read_any(str(path))
    return list(zip(table.prompts, table.completions, strict=True))


def delimited(values: list[tuple[str, str]], delimiter: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerows([("prompt", "completion"), *values])
    return out.getvalue().encode()


@FAST
@given(rows(), st.sampled_from([(",", "csv"), ("\t", "tsv")]))
def test_read_any_delimited_round_trip_keeps_every_field(values: list[tuple[str, str]], kind: tuple[str, str]) -> None:
    delimiter, extension = kind
    assert read_back(f"data.{extension}", delimited(values, delimiter)) == values


@FAST
@given(rows(printable=True).filter(lambda v: not any(s.startswith("=") for row in v for s in row)))
def test_read_any_xlsx_round_trip_keeps_every_field(values: list[tuple[str, str]]) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in [("prompt", "completion"), *values]:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    assert read_back("data.xlsx", out.getvalue()) == values


@FAST
@given(st.lists(st.tuples(texts(), texts()), min_size=2, max_size=8))
def test_read_any_jsonl_round_trip_keeps_every_field(values: list[tuple[str, str]]) -> None:
    from client.prepare import write_jsonl

    out = io.StringIO()
    write_jsonl([{"prompt": p, "completion": c} for p, c in values], out)
    assert read_back("data.jsonl", out.getvalue().encode()) == values


@FAST
@given(st.lists(st.tuples(st.text(), st.text()), min_size=1, max_size=20))
def test_batch_escaping_equals_the_per_value_encoder(values: list[tuple[str, str]]) -> None:
    """The whole-batch byte escaper writes what the C encoder writes value by value, or steps aside (None)."""
    prompts, completions = [p for p, _ in values], [c for _, c in values]
    batch = escaped_lines(prompts, completions)
    expected = b"".join(
        ('{"prompt":' + quote(p) + ',"completion":' + quote(c) + "}\n").encode("utf-8", "surrogatepass")
        for p, c in values
    )
    if batch is None:
        needs_per_value = "".join(p + c for p, c in values)
        assert any((ord(ch) < 32 and ch not in "\b\t\n\f\r") or 0xD800 <= ord(ch) <= 0xDFFF for ch in needs_per_value)
    else:
        assert batch == expected
