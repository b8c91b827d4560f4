"""The two-process CSV reader: forced on small files, byte-identical to one process, safe fallback."""

from __future__ import annotations

import csv
import io
import os
import re
import signal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from client.prepare import PrepareError, Table, csvfile, csvsplit, fork, xfix
from client.prepare.readers import read_any
from conformance.strategies import NA_WORDS, texts
from tests.conftest import FIXTURES

DATA = FIXTURES / "prepare"
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
pytestmark = pytest.mark.skipif(not fork.available(), reason="the parallel path needs Linux fork and one thread")


def outcome(path: Path, *, parallel: bool, monkeypatch: pytest.MonkeyPatch) -> object:
    """What read_any makes of the file (the table's fields, or the error) on one path or the other."""
    with monkeypatch.context() as patch:
        patch.setattr(csvfile, "PARALLEL_MIN_BYTES", 0 if parallel else 1 << 62)
        try:
            table = read_any(str(path))
        except PrepareError as exc:
            return ("error", exc.name, exc.message)
    return (table.columns, table.prompts, table.completions)


def csv_bytes(rows: list[list[str]], delimiter: str = ",", terminator: str = "\n") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator=terminator).writerows(rows)
    return out.getvalue().encode("utf-8")


cells = st.one_of(texts(max_size=30), st.sampled_from(sorted(NA_WORDS)), st.sampled_from(['"', '""', "a\nb", ",", "x"]))
csv_rows = st.lists(st.lists(cells, min_size=2, max_size=2), min_size=1, max_size=40)


@pytest.mark.parametrize(
    "name", ["extra_columns.csv", "missing_prompt.csv", "uppercase_columns.csv", "classification.tsv"]
)
def test_read_any_parallel_matches_single_process_on_fixtures(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path = DATA / name
    assert outcome(path, parallel=True, monkeypatch=monkeypatch) == outcome(
        path, parallel=False, monkeypatch=monkeypatch
    )


@FAST
@given(csv_rows, st.sampled_from(["\n", "\r\n"]), st.booleans())
def test_read_any_parallel_matches_single_process_on_quoted_csv(
    rows: list[list[str]], terminator: str, broken: bool
) -> None:
    data = csv_bytes([["prompt", "completion"], *rows], terminator=terminator)
    if broken:
        data += b'"unterminated,x\n'  # an open quote at the end: an error, worded by the exact path
    with pytest.MonkeyPatch.context() as monkeypatch, _scratch() as directory:
        path = directory / "data.csv"
        path.write_bytes(data)
        assert outcome(path, parallel=True, monkeypatch=monkeypatch) == outcome(
            path, parallel=False, monkeypatch=monkeypatch
        )


@FAST
@given(st.lists(st.lists(cells, min_size=3, max_size=3), min_size=2, max_size=40))
def test_read_parallel_matches_fast_path_when_it_splits(rows: list[list[str]]) -> None:
    with _scratch() as directory:
        path = directory / "data.tsv"
        path.write_bytes(csv_bytes([["Prompt", "x", "completion"], *rows], delimiter="\t"))
        assume(not csvfile._has_lone_carriage_return(str(path)))  # read_delimited sends those to the exact path
        table = csvsplit.read_parallel(str(path), "\t")
        if table is not None:
            assert table == csvfile._fast(str(path), "\t")


def test_read_parallel_splits_inside_quoted_newlines(tmp_path: Path) -> None:
    rows = [["prompt", "completion"]] + [[f'say "hi"\n{i}', f"a, b\n\nc {i}"] for i in range(200)]
    path = tmp_path / "data.csv"
    path.write_bytes(csv_bytes(rows))
    table = csvsplit.read_parallel(str(path), ",")
    assert table is not None
    assert table == csvfile._fast(str(path), ",")
    assert table.prompts[199] == 'say "hi"\n199'


def test_read_parallel_is_exact_when_literal_quotes_mislead_parity(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(b"prompt,completion\n" + b'a"b,c\n' * 400)  # literal quotes in unquoted fields
    table = csvsplit.read_parallel(str(path), ",")
    assert table is None or table == csvfile._fast(str(path), ",")
    assert table is None or table.prompts == ['a"b'] * 400


def _failing(how: str) -> None:
    if how == "raise":
        raise RuntimeError("child failed")
    if how == "exit":
        os._exit(3)
    os.kill(os.getpid(), signal.SIGKILL)


@pytest.mark.parametrize("how", ["raise", "exit", "signal"])
def test_read_any_falls_back_when_parse_child_fails(how: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(csv_bytes([["prompt", "completion"]] + [[f"p {i}", f"c {i}"] for i in range(300)]))
    expected = outcome(path, parallel=False, monkeypatch=monkeypatch)
    monkeypatch.setattr(csvsplit, "second_half", lambda *args: _failing(how))
    assert csvsplit.read_parallel(str(path), ",") is None
    assert outcome(path, parallel=True, monkeypatch=monkeypatch) == expected


class _scratch:
    """A fresh temporary directory per Hypothesis example (pytest's tmp_path is per test)."""

    def __enter__(self) -> Path:
        import tempfile

        self._dir = tempfile.TemporaryDirectory()
        return Path(self._dir.name)

    def __exit__(self, *exc: object) -> None:
        self._dir.cleanup()


@FAST
@given(st.lists(st.sampled_from(["", "a", "ab", "abc", "abd", "b", "a\x00"]) | texts(max_size=6), max_size=12))
def test_common_prefix_matches_pairwise_definition(values: list[str]) -> None:
    expected = os.path.commonprefix(values)  # noqa: RUF071 (character-wise on purpose)
    assert xfix.common_prefix(values) == expected


@FAST
@given(st.lists(texts(max_size=12), max_size=8), st.sampled_from([" ->", "\n", "\n\n###\n\n", "é", "a\x00"]))
def test_contains_matches_substring_search(values: list[str], needle: str) -> None:
    assert xfix.contains(values, needle) == any(needle in v for v in values)


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


def test_read_any_above_parallel_maximum_stays_in_one_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(csv_bytes([["prompt", "completion"]] + [[f"p {i}", f"c {i}"] for i in range(300)]))
    monkeypatch.setattr(csvfile, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(csvfile, "PARALLEL_MAX_BYTES", 100)
    monkeypatch.setattr(csvsplit, "read_parallel", lambda *args: pytest.fail("the parallel reader was used"))
    assert len(read_any(str(path))) == 300


@FAST
@given(csv_rows)
def test_read_any_remembers_the_longest_values_exactly(rows: list[list[str]]) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch, _scratch() as directory:
        path = directory / "data.csv"
        path.write_bytes(csv_bytes([["prompt", "completion"], *rows]))
        for parallel in (False, True):
            monkeypatch.setattr(csvfile, "PARALLEL_MIN_BYTES", 0 if parallel else 1 << 62)
            try:
                table = read_any(str(path))
            except PrepareError:
                continue
            measured = (max(map(len, table.prompts), default=0), max(map(len, table.completions), default=0))
            assert table.longest() == measured


def test_table_forgets_the_longest_values_when_a_column_changes() -> None:
    table = Table(["prompt", "completion"], ["a", "bb"], ["c", "d"])
    table.remember_longest(2, 1)
    table.append_to("completions", "x" * 5000)
    assert table.longest() == (2, 5001)


@FAST
@given(st.lists(st.sampled_from([b"\r", b"\n", b"\r\n", b"x", b'"']), max_size=30))
def test_has_lone_carriage_return_matches_its_definition(pieces: list[bytes]) -> None:
    data = b"".join(pieces)
    with _scratch() as directory:
        path = directory / "data.csv"
        path.write_bytes(data)
        assert csvfile._has_lone_carriage_return(str(path)) is bool(re.search(rb"\r(?!\n)", data))
