"""A big index's similarity part is built by a worker process: the same postings as built here."""

from __future__ import annotations

import sys

import pytest

from emulator.inference import completing
from emulator.inference.nearest import NearestIndex
from tests.conftest import capitals


def examples() -> list[tuple[str, str]]:
    return [(row["prompt"], row["completion"]) for row in capitals(60)]


def test_completed_by_a_process_equals_completed_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(completing, "PROCESS_EXAMPLES", 1)
    here, elsewhere = NearestIndex(examples()), NearestIndex(examples())
    here.postings  # noqa: B018 - built here
    completing.complete(elsewhere)
    assert elsewhere.complete
    # The same trigrams and postings; a sum over a set may round differently in another process (its string
    # hashes differ), as after a restart, so the lookups are compared, not the bytes.
    assert elsewhere.postings.codes == here.postings.codes and elsewhere.postings.entries == here.postings.entries
    queries = ["Polnd ->", "capital of Japna ->", "Kenya", "nothing alike at all", "France France ->"]
    assert [elsewhere.nearest(q).index for q in queries] == [here.nearest(q).index for q in queries]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("executable", "logged"),
    [
        ("/bin/false", "ended without its answer"),  # starts, answers nothing
        ("/nonexistent/python", "could not complete an index in a worker process"),  # cannot start
    ],
)
def test_a_failed_process_leaves_the_building_here(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, executable: str, logged: str
) -> None:
    monkeypatch.setattr(completing, "PROCESS_EXAMPLES", 1)
    monkeypatch.setattr(sys, "executable", executable)
    index = NearestIndex(examples())
    completing.complete(index)
    assert index.complete and logged in caplog.text


def test_small_indexes_are_completed_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")  # no process would start
    index = NearestIndex(examples())
    completing.complete(index)
    assert index.complete


def test_postings_of_another_index_are_refused() -> None:
    index = NearestIndex(examples())
    other = NearestIndex(examples()[:10])
    other.postings  # noqa: B018
    with pytest.raises(ValueError, match="no similarity part for this one"):
        index.take_postings(other)
