"""The column statistics behind the checks (client/prepare/stats.py) against simple per-character models."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from client.prepare import stats

# Latin-1 (the one-byte path), titlecase and other-case letters, surrogates and CJK (the per-character path).
ALPHABET = st.sampled_from([*"aAzZ ßÿÀÞ×÷ªµ1\n", "ǅ", "Ⅰ", "ᵃ", "Σ", "İ", "日", "\ud800"])
VALUES = st.lists(st.text(ALPHABET, max_size=8), max_size=12)


def _model_counts(values: list[str]) -> tuple[int, int]:
    letters = [c for v in values for c in v if c.isalpha()]
    return sum(c.isupper() for c in letters), sum(c.islower() for c in letters)


def _model_suffix(values: list[str]) -> str:
    if not values:
        return ""
    n = 0
    shortest = min(map(len, values))
    while n < shortest and len({v[len(v) - n - 1] for v in values}) == 1:
        n += 1
    return values[0][len(values[0]) - n :]


@pytest.fixture(autouse=True)
def _small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stats, "CHUNK", 3)  # several chunks even for a dozen values


@given(VALUES)
def test_case_counts_match_the_per_character_model(values: list[str]) -> None:
    assert stats.case_counts(values) == _model_counts(values)


@given(VALUES)
def test_mostly_upper_matches_the_per_character_model(values: list[str]) -> None:
    upper, lower = _model_counts(values)
    assert stats.mostly_upper(values) == (upper * 2 > lower)


@given(VALUES)
def test_common_suffix_matches_the_per_character_model(values: list[str]) -> None:
    assert stats.common_suffix(values) == _model_suffix(values)


@given(
    st.lists(st.sampled_from(["", "a", "ab", "abc", "abd", "b", "a\x00"]) | st.text(ALPHABET, max_size=6), max_size=12)
)
def test_common_prefix_matches_pairwise_definition(values: list[str]) -> None:
    expected = os.path.commonprefix(values)  # noqa: RUF071 (character-wise on purpose)
    assert stats.common_prefix(values) == expected


@given(
    st.lists(st.text(ALPHABET, max_size=12), max_size=8), st.sampled_from([" ->", "\n", "\n\n###\n\n", "é", "a\x00"])
)
def test_present_matches_substring_search(values: list[str], needle: str) -> None:
    assert stats.present(values, [needle]) == ({needle} if any(needle in v for v in values) else set())
