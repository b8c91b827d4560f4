"""The sharded table: the whole run with the child keeping its rows says and writes exactly what one process does."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from client.prepare import csvfile, fork, shards
from client.prepare.cli import build_parser, run
from client.prepare.readers import read_any
from client.prepare.shards import ShardedTable
from client.prepare.table import Table
from conformance.strategies import training_examples, training_files
from tests.client.test_prepare_parallel import _failing

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
pytestmark = pytest.mark.skipif(not fork.available(), reason="sharding needs Linux fork and one thread")

RAW = training_examples(separator=None, ending=None, leading_space=False)
PREPARED = training_examples()
SHOUTED = RAW.map(lambda e: {"prompt": e["prompt"].upper(), "completion": e["completion"]})
data_sets = st.one_of(
    training_files(min_size=2, max_size=25),
    training_files(min_size=2, max_size=25, examples=PREPARED),
    training_files(min_size=2, max_size=25, examples=st.one_of(RAW, SHOUTED, PREPARED)),
    training_files(min_size=2, max_size=25, examples=RAW.map(lambda e: {**e, "prompt": "Q: " + e["prompt"]})),
)


def csv_text(records: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["prompt", "completion"])
    writer.writerows([r["prompt"], r["completion"]] for r in records)
    return out.getvalue()


@contextmanager
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def session(directory: Path, name: str, *, sharded: bool, flags: tuple[str, ...] = ("-q",)) -> tuple[object, ...]:
    """(exit code, stdout, stderr, the files written and their bytes), in a directory of its own."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(directory)
        patch.setattr(csvfile, "PARALLEL_MIN_BYTES", 0 if sharded else 1 << 62)
        out, err = io.StringIO(), io.StringIO()
        code = run(build_parser().parse_args(["-f", name, *flags]), stdin=io.StringIO(""), stdout=out, stderr=err)
    written = {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.name != name}
    for path in directory.iterdir():
        if path.name != name:
            path.unlink()
    return code, out.getvalue(), err.getvalue(), written


def both_ways(text: str, flags: tuple[str, ...] = ("-q",)) -> tuple[tuple[object, ...], tuple[object, ...]]:
    with workdir() as directory:
        (directory / "data.csv").write_text(text, encoding="utf-8")
        return (
            session(directory, "data.csv", sharded=True, flags=flags),
            session(directory, "data.csv", sharded=False, flags=flags),
        )


@FAST
@given(data_sets)
def test_sharded_run_says_and_writes_what_one_process_does(records: list[dict[str, str]]) -> None:
    sharded, single = both_ways(csv_text(records))
    assert sharded == single


@FAST
@given(data_sets)
def test_sharded_check_and_tokens_match_one_process(records: list[dict[str, str]]) -> None:
    sharded, single = both_ways(csv_text(records), flags=("--check", "--tokens"))
    assert sharded == single


def big_text(rows: int = 400) -> str:
    return csv_text([{"prompt": f'Item {i}, a "thing"', "completion": f"value {i}"} for i in range(rows)])


def sharded_table(directory: Path, monkeypatch: pytest.MonkeyPatch) -> ShardedTable:
    """`big_text` read for the command line, forced onto the two-process path."""
    path = directory / "data.csv"
    path.write_text(big_text(), encoding="utf-8")
    monkeypatch.setattr(csvfile, "PARALLEL_MIN_BYTES", 0)
    table = read_any(str(path), sharded=True)
    assert isinstance(table, ShardedTable)
    return table


def test_read_any_sharded_keeps_rows_in_a_child(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    table = sharded_table(tmp_path, monkeypatch)
    assert 0 < len(table.local) < len(table) == 400
    whole = read_any(str(tmp_path / "data.csv"))
    assert type(whole) is Table
    assert table.prompts == whole.prompts  # reading the values gathers them: now a plain Table
    assert type(table) is Table
    assert table.completions == whole.completions


def test_sharded_table_unpicklable_change_gathers_the_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    table = sharded_table(tmp_path, monkeypatch)
    table.append_to("prompts", " ->")  # picklable: both parts, still sharded
    assert isinstance(table, ShardedTable)
    table.map_column("completions", lambda c: c.upper())  # a lambda cannot travel: gathered, then changed
    assert type(table) is Table
    assert table.prompts[399] == 'Item 399, a "thing" ->'
    assert table.completions[0] == "VALUE 0"


@pytest.mark.parametrize("how", ["raise", "exit", "signal"])
@pytest.mark.parametrize("command", ["upper_count", "append_to", "write_spill", "values"])
def test_sharded_run_recovers_when_the_child_fails(how: str, command: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The child's rows are parsed again here and the fixes made so far replayed: the same transcript and file."""
    text = big_text()
    _, single = both_ways(text)
    parent, real = os.getpid(), shards.COMMANDS[command]

    def in_the_child_only(*args: object) -> object:
        return real(*args) if os.getpid() == parent else _failing(how)

    monkeypatch.setitem(shards.COMMANDS, command, in_the_child_only)
    sharded, _ = both_ways(text)
    assert sharded == single


def test_sharded_write_without_a_spill_file_writes_everything_here(monkeypatch: pytest.MonkeyPatch) -> None:
    text = big_text()
    _, single = both_ways(text)
    monkeypatch.setattr(shards, "_create_spill", lambda path: None)
    sharded, _ = both_ways(text)
    assert sharded == single


def test_sharded_write_appends_without_copy_file_range(monkeypatch: pytest.MonkeyPatch) -> None:
    text = big_text()
    _, single = both_ways(text)

    def unsupported(*args: object) -> int:
        raise OSError("not supported here")

    monkeypatch.setattr(os, "copy_file_range", unsupported)
    sharded, _ = both_ways(text)
    assert sharded == single


def test_sharded_child_ends_with_its_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    table = sharded_table(tmp_path, monkeypatch)
    pid = table.remote.pid
    assert pid is not None
    table.remote.close()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # already reaped: no zombie left behind
