"""The nearest-prompt index of a tuned model: exact lookup, then IDF-weighted character-trigram cosine.

Prompts are normalised before anything is compared: the model's separator (the trailing run of
non-alphanumeric characters every training prompt ends with, e.g. "\\n\\n###\\n\\n" or " ->") is removed if
present, whitespace is collapsed and trimmed, and (for similarity only) letters are lower-cased.

Exact: a prompt whose normalised form equals a training prompt's is that example (the last one in training
order wins, so a retrained model's own examples override its parents'; earlier duplicates are dropped).

Similarity: each normalised prompt is the set of its character trigrams (padded with one space each side).
A trigram g weighs idf(g)^2 with idf(g) = ln((1 + N) / (1 + df(g))) + 1 (N examples, df(g) of them contain g;
a trigram no example contains gets ln(1 + N) + 1). The similarity of a query q and an example d is the cosine
sum_{g in q and d} idf(g)^2 / (|q| |d|) with |x| = sqrt(sum_{g in x} idf(g)^2). The best example wins; ties
go to the earlier example. Trigrams in more than half of the examples are kept as the list of examples that
do NOT contain them, so a lookup touches only min(df, N - df) entries per trigram of the query.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

_SPACES = re.compile(r"\s+")


def common_separator(prompts: Sequence[str]) -> str:
    """The trailing run of non-alphanumeric characters that every prompt ends with ('' if none)."""
    if not prompts:
        return ""
    suffix = prompts[0]
    for prompt in prompts[1:]:
        while suffix and not prompt.endswith(suffix):
            suffix = suffix[1:]
        if not suffix:
            return ""
    start = len(suffix)
    while start > 0 and not suffix[start - 1].isalnum():
        start -= 1
    return suffix[start:]


def normalise(prompt: str, separator: str) -> str:
    """The prompt without the model's separator, whitespace collapsed and trimmed (case kept)."""
    if separator and prompt.endswith(separator):
        prompt = prompt[: -len(separator)]
    return _SPACES.sub(" ", prompt).strip()


def trigrams(text: str) -> set[str]:
    padded = f" {text.lower()} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


@dataclass(frozen=True)
class Match:
    index: int
    score: float
    exact: bool


class NearestIndex:
    """Built once per model from its (prompt, completion) pairs in training order."""

    def __init__(self, examples: Sequence[tuple[str, str]]) -> None:
        self.separator = common_separator([prompt for prompt, _ in examples])
        keys = [normalise(prompt, self.separator) for prompt, _ in examples]
        last = {key: position for position, key in enumerate(keys)}
        kept = [position for position, key in enumerate(keys) if last[key] == position]
        self.examples = [examples[position] for position in kept]
        self._exact: dict[str, int] = {}
        grams_per_example: list[set[str]] = []
        frequency: dict[str, int] = {}
        for index, position in enumerate(kept):
            key = keys[position]
            self._exact[key] = index
            grams = trigrams(key)
            grams_per_example.append(grams)
            for gram in grams:
                frequency[gram] = frequency.get(gram, 0) + 1
        self._build_similarity(grams_per_example, frequency)
        self.answers = [index for index, (_, completion) in enumerate(self.examples) if completion]

    def _build_similarity(self, grams_per_example: list[set[str]], frequency: dict[str, int]) -> None:
        count = len(grams_per_example)
        self._unknown_weight = (math.log(1 + count) + 1) ** 2
        self._weight = {g: (math.log((1 + count) / (1 + df)) + 1) ** 2 for g, df in frequency.items()}
        common = {g for g, df in frequency.items() if df * 2 > count}
        postings: dict[str, list[int]] = {g: [] for g in frequency}
        self._norms: list[float] = []
        for index, grams in enumerate(grams_per_example):
            self._norms.append(math.sqrt(sum(self._weight[g] for g in grams)) or 1.0)
            for gram in grams:
                if gram not in common:
                    postings[gram].append(index)
        everyone = range(count)
        for gram in common:
            members = set()
            for index, grams in enumerate(grams_per_example):
                if gram in grams:
                    members.add(index)
            postings[gram] = [index for index in everyone if index not in members]
        self._postings = postings
        self._common = common
        self._by_norm = sorted(range(count), key=lambda index: (self._norms[index], index))

    def __len__(self) -> int:
        return len(self.examples)

    def key(self, prompt: str) -> str:
        return normalise(prompt, self.separator)

    def exact(self, prompt: str) -> int | None:
        """The example whose prompt equals this one after normalisation (separator added or left off)."""
        return self._exact.get(self.key(prompt))

    def nearest(self, prompt: str) -> Match | None:
        """The exact example, else the most similar one (None when the model has no examples)."""
        if not self.examples:
            return None
        found = self.exact(prompt)
        if found is not None:
            return Match(found, 1.0, True)
        index, score = self._most_similar(trigrams(self.key(prompt)))
        return Match(index, score, False)

    def similarity(self, query: str, prompt: str) -> float:
        """The cosine of two prompts under this index's weights, computed directly (the definition)."""
        left, right = trigrams(self.key(query)), trigrams(self.key(prompt))
        weight = self._weight.get
        dot = sum(weight(g, self._unknown_weight) for g in left & right)
        left_norm = math.sqrt(sum(weight(g, self._unknown_weight) for g in left)) or 1.0
        right_norm = math.sqrt(sum(weight(g, self._unknown_weight) for g in right)) or 1.0
        return dot / (left_norm * right_norm)

    def _most_similar(self, grams: set[str]) -> tuple[int, float]:
        query_norm = math.sqrt(sum(self._weight.get(g, self._unknown_weight) for g in grams)) or 1.0
        base = 0.0
        delta: dict[int, float] = {}
        for gram in grams:
            weight = self._weight.get(gram)
            if weight is None:
                continue
            if gram in self._common:
                base += weight
                weight = -weight
            for index in self._postings[gram]:
                delta[index] = delta.get(index, 0.0) + weight
        candidates = [(-(base + extra) / self._norms[index], index) for index, extra in delta.items()]
        untouched = next((index for index in self._by_norm if index not in delta), None)
        if untouched is not None:
            candidates.append((-base / self._norms[untouched], untouched))
        score, index = min(candidates)
        return index, -score / query_norm
