"""The CSV/TSV reader's single-process fast path: the same table as the exact path, and its shortcuts."""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from client.prepare import PrepareError, Table, csvfile, read_any
from conformance.strategies import NA_WORDS, texts

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
cells = st.one_of(texts(max_size=30), st.sampled_from(sorted(NA_WORDS)), st.sampled_from(['"', '""', "a\nb", ",", "x"]))
csv_rows = st.lists(st.lists(cells, min_size=2, max_size=2), min_size=1, max_size=40)


def csv_bytes(rows: list[list[str]], delimiter: str = ",", terminator: str = "\n") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator=terminator).writerows(rows)
    return out.getvalue().encode("utf-8")


@contextmanager
def scratch() -> Iterator[Path]:
    """A fresh temporary directory per Hypothesis example (pytest's tmp_path is per test)."""
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


@FAST
@given(st.lists(st.lists(cells, min_size=3, max_size=3), min_size=1, max_size=40), st.sampled_from([",", "\t"]))
def test_fast_path_reads_what_the_exact_path_reads(rows: list[list[str]], delimiter: str) -> None:
    with scratch() as directory:
        path = directory / "data.csv"
        path.write_bytes(csv_bytes([["Prompt", "x", "completion"], *rows], delimiter=delimiter))
        assume(not csvfile._has_lone_carriage_return(str(path)))  # read_delimited sends those to the exact path
        try:
            fast = csvfile._fast(str(path), delimiter)
        except csvfile.Unusual:
            return
        exact = csvfile._exact(str(path), delimiter)
        assert (fast.columns, fast.prompts, fast.completions) == (exact.columns, exact.prompts, exact.completions)


@pytest.mark.parametrize(
    ("where", "tail", "lone"),
    [
        ((1 << 20) - 1, b"\n", False),  # CR LF across the 1 MiB block boundary
        ((1 << 20) - 1, b"a", True),  # a lone CR as the last byte of a block
        ((1 << 20) + 5, b"\n", False),
        ((1 << 20) + 5, b"", True),  # a CR ending the file
        (3, b"\r\n", True),  # CR CR LF: the first CR is lone
    ],
)
def test_has_lone_carriage_return_across_blocks(where: int, tail: bytes, lone: bool, tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(b"x" * where + b"\r" + tail + (b"y" * 10 if tail else b""))
    assert csvfile._has_lone_carriage_return(str(path)) is lone


@FAST
@given(st.lists(st.sampled_from([b"\r", b"\n", b"\r\n", b"x", b'"']), max_size=30))
def test_has_lone_carriage_return_matches_its_definition(pieces: list[bytes]) -> None:
    data = b"".join(pieces)
    with scratch() as directory:
        path = directory / "data.csv"
        path.write_bytes(data)
        assert csvfile._has_lone_carriage_return(str(path)) is bool(re.search(rb"\r(?!\n)", data))


@FAST
@given(csv_rows)
def test_read_any_remembers_the_longest_values_exactly(rows: list[list[str]]) -> None:
    with scratch() as directory:
        path = directory / "data.csv"
        path.write_bytes(csv_bytes([["prompt", "completion"], *rows]))
        try:
            table = read_any(str(path))
        except PrepareError:
            return
        measured = (max(map(len, table.prompts), default=0), max(map(len, table.completions), default=0))
        assert table.longest() == measured


def test_table_forgets_the_longest_values_when_a_column_changes() -> None:
    table = Table(["prompt", "completion"], ["a", "bb"], ["c", "d"])
    table.remember_longest(2, 1)
    table.append_to("completions", "x" * 5000)
    assert table.longest() == (2, 5001)
