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

Storage (compact.py): texts once each in one UTF-8 buffer, every number in a typed array, so the index's
memory grows with the distinct text, not with Python objects per example, and it round-trips through bytes.
"""

from __future__ import annotations

import math
import threading
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from emulator.inference.compact import Postings, Texts, exact_table, key_hash, lookup_hash
from emulator.inference.compact import dump as dump_parts
from emulator.inference.compact import load as load_parts


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
    return " ".join(prompt.split())  # str.split's whitespace is re's \s: the same as collapsing, then trimming


def trigrams(text: str) -> set[str]:
    padded = f" {text.lower()} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


@dataclass(frozen=True)
class Match:
    index: int
    score: float
    exact: bool


class Examples(Sequence[tuple[str, str]]):
    """The kept (prompt, completion) pairs, read from the shared text buffer on demand."""

    def __init__(self, texts: Texts, prompts: array[int], completions: array[int]) -> None:
        self.texts = texts
        self.prompts = prompts
        self.completions = completions

    def __len__(self) -> int:
        return len(self.prompts)

    def __getitem__(self, index: int) -> tuple[str, str]:  # type: ignore[override]
        return self.texts[self.prompts[index]], self.texts[self.completions[index]]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        for index in range(len(self.prompts)):
            yield self[index]


class NearestIndex:
    """Built once per model from its (prompt, completion) pairs in training order."""

    def __init__(self, examples: Sequence[tuple[str, str]] = ()) -> None:
        self.separator = separator = common_separator([prompt for prompt, _ in examples])
        keys = [normalise(prompt, separator) for prompt, _ in examples]
        last = {key: position for position, key in enumerate(keys)}
        if len(last) < len(keys):  # duplicates: the last of each stays
            kept = [position for position, key in enumerate(keys) if last[key] == position]
            examples, keys = [examples[position] for position in kept], [keys[position] for position in kept]
        texts, numbers = Texts.build([text for example in examples for text in example])
        self.examples = Examples(texts, numbers[0::2], numbers[1::2])
        self._hashes, self._order = exact_table([key_hash(key) for key in keys])
        self._postings: Postings | None = None
        self._building = threading.Lock()
        self.answers = array("I", [number for number, (_, completion) in enumerate(examples) if completion])

    @property
    def postings(self) -> Postings:
        """The similarity part, built on first need: exact answers (a training prompt) never wait for it."""
        if self._postings is None:
            with self._building:
                if self._postings is None:
                    self._postings = Postings.build([self.key(prompt) for prompt, _ in self.examples], trigrams)
        return self._postings

    def take_postings(self, other: NearestIndex) -> None:
        """The similarity part another copy of this index built (a worker process), unless one is here already."""
        if other._postings is None or len(other) != len(self):
            raise ValueError("that index has no similarity part for this one")
        with self._building:
            if self._postings is None:
                self._postings = other._postings

    @property
    def complete(self) -> bool:
        """Whether the similarity part is built (and so written by `to_bytes`)."""
        return self._postings is not None

    # persistence ------------------------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """Everything the index holds, as one buffer (written next to the store so a restart need not rebuild)."""
        examples = self.examples
        return dump_parts(
            self.separator,
            examples.texts,
            examples.prompts,
            examples.completions,
            self._hashes,
            self._order,
            self._postings,
            self.answers,
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> NearestIndex:
        """An index `to_bytes` wrote (ValueError if the buffer is not one)."""
        separator, texts, prompts, completions, hashes, order, postings, answers = load_parts(data)
        index = cls.__new__(cls)
        index.separator = separator
        index.examples = Examples(texts, prompts, completions)
        index._hashes, index._order, index._postings, index.answers = hashes, order, postings, answers
        index._building = threading.Lock()
        return index

    @property
    def nbytes(self) -> int:
        """Bytes of the buffers and arrays it holds (what the tuned-model cache counts)."""
        arrays = (self.examples.prompts, self.examples.completions, self._hashes, self._order, self.answers)
        similarity = self._postings.nbytes if self._postings is not None else 0
        return self.examples.texts.nbytes + similarity + sum(a.itemsize * len(a) for a in arrays)

    # lookups ----------------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.examples)

    def key(self, prompt: str) -> str:
        return normalise(prompt, self.separator)

    def exact(self, prompt: str) -> int | None:
        """The example whose prompt equals this one after normalisation (separator added or left off)."""
        key = self.key(prompt)
        for index in lookup_hash(self._hashes, self._order, key_hash(key)):
            if self.key(self.examples[index][0]) == key:
                return index
        return None

    def nearest(self, prompt: str) -> Match | None:
        """The exact example, else the most similar one (None when the model has no examples)."""
        if not len(self.examples):
            return None
        found = self.exact(prompt)
        if found is not None:
            return Match(found, 1.0, True)
        index, score = self.postings.most_similar(trigrams(self.key(prompt)), self._own_grams)
        return Match(index, score, False)

    def _own_grams(self, index: int) -> set[str]:
        """An example's trigrams, as the similarity part was built from them."""
        return trigrams(self.key(self.examples.texts[self.examples.prompts[index]]))

    def similarity(self, query: str, prompt: str) -> float:
        """The cosine of two prompts under this index's weights, computed directly (the definition)."""
        left, right = trigrams(self.key(query)), trigrams(self.key(prompt))
        weight = self.postings.weight
        dot = sum(weight(g) for g in left & right)
        left_norm = math.sqrt(sum(weight(g) for g in left)) or 1.0
        right_norm = math.sqrt(sum(weight(g) for g in right)) or 1.0
        return dot / (left_norm * right_norm)
