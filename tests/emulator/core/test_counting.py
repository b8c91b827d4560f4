"""Token counts of big batches come from a worker process, equal to this process's, with a fallback here."""

from __future__ import annotations

import sys

import pytest

from emulator.core import counting
from emulator.core.counting import Counted, CountedElsewhere, count_texts, start_counting

TEXTS = ["", "Warsaw", " Paris\n\n###\n\n", "żółć ąę 🎉", "<|endoftext|> kept as text", "a" * 3000, "\r\n\t x"] * 40


@pytest.fixture
def every_batch_in_a_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(counting, "PROCESS_CHARACTERS", 1)


@pytest.mark.usefixtures("every_batch_in_a_process")
@pytest.mark.parametrize("encoding", ["r50k_base", "cl100k_base"])
def test_counts_made_in_a_process_equal_counts_made_here(encoding: str) -> None:
    made = start_counting(encoding, TEXTS)
    assert isinstance(made, CountedElsewhere)
    assert made.result() == count_texts(encoding, TEXTS)


@pytest.mark.usefixtures("every_batch_in_a_process")
def test_texts_sent_in_slices_are_counted_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(counting, "SEND_TEXTS", 7)  # 280 texts: 40 slices
    assert start_counting("r50k_base", TEXTS).result() == count_texts("r50k_base", TEXTS)


def test_small_batches_are_counted_here() -> None:
    made = start_counting("r50k_base", ["a few", "short texts"])
    assert isinstance(made, Counted) and made.result() == [2, 2]


@pytest.mark.usefixtures("every_batch_in_a_process")
def test_a_process_that_cannot_start_leaves_the_counting_here(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    made = start_counting("r50k_base", TEXTS)
    assert isinstance(made, Counted) and made.result() == count_texts("r50k_base", TEXTS)
    assert "could not start a token-counting process" in caplog.text


@pytest.mark.usefixtures("every_batch_in_a_process")
def test_a_process_that_dies_leaves_the_counting_here(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(sys, "executable", "/bin/false")  # starts, reads nothing, answers nothing
    made = start_counting("r50k_base", TEXTS)
    assert isinstance(made, CountedElsewhere)
    assert made.result() == count_texts("r50k_base", TEXTS)
    assert "ended without its answer" in caplog.text
