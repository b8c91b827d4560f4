"""The compact nearest-prompt index answers exactly as the plain definition does, and survives bytes."""

from __future__ import annotations

import math
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.inference import bounds, compact
from emulator.inference.nearest import NearestIndex, trigrams

WORDS = st.sampled_from(["the", "capital", "of", "river", "zebra", "Item", "7", "12", "é", "x", "\ud800", "a b"])
PROMPTS = st.lists(WORDS, min_size=1, max_size=8).map(" ".join).map(lambda p: p + " ->")


def reference(examples: list[tuple[str, str]], query: str) -> tuple[int, float] | None:
    """Every kept example scored by the module docstring's definition; best score, then earliest example."""
    index = NearestIndex(examples)
    keys = [index.key(prompt) for prompt, _ in index.examples]
    if not keys:
        return None
    if index.key(query) in keys:
        return keys.index(index.key(query)), 1.0
    sets = [trigrams(key) for key in keys]
    frequency: dict[str, int] = {}
    for grams in sets:
        for gram in grams:
            frequency[gram] = frequency.get(gram, 0) + 1
    n = len(sets)

    def weight(gram: str) -> float:
        return (math.log((1 + n) / (1 + frequency.get(gram, 0))) + 1) ** 2

    query_grams = trigrams(index.key(query))
    query_norm = math.sqrt(sum(map(weight, query_grams))) or 1.0
    scores = [
        sum(weight(g) for g in query_grams & grams) / ((math.sqrt(sum(map(weight, grams))) or 1.0) * query_norm)
        for grams in sets
    ]
    best = max(scores)
    return scores.index(best), best


@settings(max_examples=150, deadline=None)
@given(prompts=st.lists(PROMPTS, min_size=1, max_size=40), query=st.lists(WORDS, max_size=8).map(" ".join))
def test_nearest_index_picks_the_definitions_best_example(prompts: list[str], query: str) -> None:
    examples = [(prompt, f" {i}") for i, prompt in enumerate(prompts)]
    match = NearestIndex(examples).nearest(query)
    expected = reference(examples, query)
    assert match is not None and expected is not None
    assert match.score == pytest.approx(expected[1])
    if match.index != expected[0]:  # only a float tie may pick another example, and then the earlier one wins
        assert abs(match.score - expected[1]) < 1e-9


@settings(max_examples=60, deadline=None)
@given(prompts=st.lists(PROMPTS, min_size=1, max_size=40), query=st.lists(WORDS, max_size=8).map(" ".join))
def test_nearest_index_pruned_lookup_equals_the_full_scan(prompts: list[str], query: str) -> None:
    index = NearestIndex([(prompt, " x") for prompt in prompts])
    postings = index.postings
    found = [(p, postings.weights[p]) for p in map(postings.find, trigrams(index.key(query))) if p is not None]
    pruned = postings._pruned(found)
    if pruned is not None:
        assert pruned == postings._scan(found)


def bounded_and_scan(index: NearestIndex, query: str) -> tuple[object, tuple[int, float]]:
    """The bounded lookup (None if it gave way) and the full scan, for one query."""
    postings = index.postings
    known = [(g, p) for g in trigrams(index.key(query)) if (p := postings.find(g)) is not None]
    found = [(p, postings.weights[p]) for _, p in known]
    base = sum(weight for position, weight in found if postings.common[position])
    score = postings._scorer(found, base, [g for g, _ in known], index._own_grams)
    return bounds.bounded(postings, score, found, base), postings._scan(found)


@settings(max_examples=80, deadline=None)
@given(
    prompts=st.lists(PROMPTS, min_size=1, max_size=40),
    query=st.lists(WORDS, max_size=8).map(" ".join),
    share=st.sampled_from([2, 3, 5, 9]),
)
def test_nearest_index_bounded_lookup_equals_the_full_scan(prompts: list[str], query: str, share: int) -> None:
    with patch.object(bounds, "RARE_SHARE", share):  # small sets: count more trigrams as rare than 1 in 256
        index = NearestIndex([(prompt, " x") for prompt in prompts])
        found, (scan_index, scan_ratio) = bounded_and_scan(index, query)
        if found is not None:
            assert found == (scan_ratio, -scan_index)
        assert index.nearest(query) == NearestIndex.from_bytes(index.to_bytes()).nearest(query)


def test_nearest_index_bounded_lookup_decides_without_the_full_scan() -> None:
    prompts = [f"item {number} of the river ->" for number in range(100, 400)]
    with patch.object(bounds, "RARE_SHARE", 16):
        index = NearestIndex([(prompt, " x") for prompt in prompts])
        for query in ("item 217 of the sea", "the 250 river item", "item 399 of the"):
            found, (scan_index, scan_ratio) = bounded_and_scan(index, query)
            assert found == (scan_ratio, -scan_index)


def test_nearest_index_scores_a_candidate_from_its_text_as_the_postings_do() -> None:
    index = NearestIndex([(f"item {number} of the river {number % 7} ->", " x") for number in range(60)])
    postings = index.postings
    known = [(g, p) for g in trigrams(index.key("item 17 of a river 3")) if (p := postings.find(g)) is not None]
    found = [(p, postings.weights[p]) for _, p in known]
    base = sum(weight for position, weight in found if postings.common[position])
    by_text = postings._scorer(found, base, [g for g, _ in known], index._own_grams)
    by_postings = postings._scorer(found, base, None, None)
    assert [by_text(i) for i in range(60)] == [by_postings(i) for i in range(60)]


@settings(max_examples=40, deadline=None)
@given(prompts=st.lists(PROMPTS, min_size=0, max_size=30), query=st.lists(WORDS, max_size=8).map(" ".join))
def test_nearest_index_round_trips_through_bytes(prompts: list[str], query: str) -> None:
    index = NearestIndex([(prompt, f" {i}" if i % 3 else "") for i, prompt in enumerate(prompts)])
    loaded = NearestIndex.from_bytes(index.to_bytes())
    assert list(loaded.examples) == list(index.examples) and list(loaded.answers) == list(index.answers)
    assert loaded.separator == index.separator and loaded.nearest(query) == index.nearest(query)
    assert loaded.nbytes == index.nbytes


def test_nearest_index_keeps_each_distinct_text_once() -> None:
    index = NearestIndex([(f"question {i} ->", " yes") for i in range(100)])
    assert len(index.examples.texts) == 101 and index.examples[7] == ("question 7 ->", " yes")


def test_nearest_index_from_bytes_refuses_other_data() -> None:
    for data in (b"", b"not an index", compact.MAGIC + b"\x00" * 8):
        try:
            NearestIndex.from_bytes(data)
        except ValueError:
            continue
        raise AssertionError(f"accepted {data!r}")


def test_nearest_index_from_bytes_refuses_an_older_version() -> None:
    data = NearestIndex([(f"q{i} ->", f" {i}") for i in range(20)]).to_bytes()
    assert data.startswith(compact.MAGIC)
    with pytest.raises(ValueError, match="not a nearest-prompt index of this version"):
        NearestIndex.from_bytes(b"FTEMU-NEAREST-1\n" + data[len(compact.MAGIC) :])


def test_nearest_index_exact_part_answers_without_the_similarity_part() -> None:
    index = NearestIndex([(f"q{i} ->", f" {i}") for i in range(20)])
    assert index.nearest("q7") == index.nearest("q7 ->") and not index.complete
    partial = NearestIndex.from_bytes(index.to_bytes())
    assert not partial.complete and partial.exact("q3 ->") == 3
    assert partial.nearest("q 7") == index.nearest("q 7") and partial.complete and index.complete
