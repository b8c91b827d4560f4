"""The nearest-prompt index's storage: texts in one buffer, trigram postings and weights in typed arrays, and bytes.

No Python object per example or per posting: a text is a slice of one UTF-8 buffer, a trigram is a 63-bit code
(three 21-bit code points) in a sorted array, postings are one array of example numbers with offsets per
trigram. The whole index is a handful of arrays, so it is written and read back as one buffer.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import struct
import sys
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from functools import reduce
from operator import or_

from emulator.inference.bounds import MARGIN, SIGNATURE_BYTES, bounded, by_bound, ranked, rare, signature_bit

MAGIC = b"FTEMU-NEAREST-2\n"
PRUNE_BUDGET = 50_000  # postings a pruned lookup may touch before it gives way to the full scan
FOUND_CACHE = 4096  # trigram positions a lookup keeps (queries share most of their trigrams)
_ENCODING = ("utf-8", "surrogatepass")  # JSON lets a prompt hold a lone surrogate

OwnGrams = Callable[[int], "set[str]"]  # an example's trigrams


def key_hash(key: str) -> int:
    """A stable 64-bit hash of a normalised prompt (Python's own hash changes with every process)."""
    return int.from_bytes(hashlib.blake2b(key.encode(*_ENCODING), digest_size=8).digest(), "little")


def exact_table(hashes: list[int]) -> tuple[array[int], array[int]]:
    """(sorted hashes, the example of each): the exact-prompt table."""
    # A Python key, not hashes.__getitem__: an all-C sort would hold the GIL (and the event loop) throughout.
    order = sorted(range(len(hashes)), key=lambda index: hashes[index])
    return array("Q", (hashes[i] for i in order)), array("I", order)


def lookup_hash(hashes: array[int], order: array[int], wanted: int) -> Iterator[int]:
    """Every example whose key has this hash (the caller compares the keys: hashes may collide)."""
    position = bisect_left(hashes, wanted)
    while position < len(hashes) and hashes[position] == wanted:
        yield order[position]
        position += 1


def gram_code(gram: str) -> int:
    return (ord(gram[0]) << 42) | (ord(gram[1]) << 21) | ord(gram[2])


class Texts:
    """Distinct strings, stored once each in one UTF-8 buffer."""

    def __init__(self, data: bytes, offsets: array[int]) -> None:
        self.data = data
        self.offsets = offsets

    @staticmethod
    def build(strings: Iterable[str]) -> tuple[Texts, array[int]]:
        """The distinct strings, and for each given string the number of its copy."""
        ids: dict[str, int] = {}
        numbers = array("I", [ids.setdefault(text, len(ids)) for text in strings])
        encoded = [text.encode(*_ENCODING) for text in ids]
        offsets = array("Q", [0, *itertools.accumulate(map(len, encoded))])
        return Texts(b"".join(encoded), offsets), numbers

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, number: int) -> str:
        return self.data[self.offsets[number] : self.offsets[number + 1]].decode(*_ENCODING)

    @property
    def nbytes(self) -> int:
        return len(self.data) + 8 * len(self.offsets)


class Postings:
    """Per trigram (by sorted code): its weight, whether it is common, and its examples (or non-examples)."""

    def __init__(
        self,
        count: int,
        codes: array[int],
        weights: array[float],
        common: bytes,
        offsets: array[int],
        entries: array[int],
        norms: array[float],
        by_norm: array[int],
        frequent: array[float],
        by_bound: array[int],
        ranked_offsets: array[int],
        ranked: array[int],
        signatures: bytes,
    ) -> None:
        self.count = count
        self.codes, self.weights, self.common = codes, weights, common
        self.offsets, self.entries = offsets, entries
        self.norms, self.by_norm = norms, by_norm
        self.frequent, self.by_bound = frequent, by_bound
        self.ranked_offsets, self.ranked, self.signatures = ranked_offsets, ranked, signatures
        self.unknown_weight = (math.log(1 + count) + 1) ** 2
        self._found: dict[str, int | None] = {}

    @staticmethod
    def build(keys: list[str], trigrams: Callable[[str], set[str]]) -> Postings:
        """Two passes over the keys (frequencies, then postings), holding one trigram set at a time.

        The second pass lists each example under its trigrams that are not common, and under the common ones it
        lacks: a conversation's shared system prompt costs no Python step per example."""
        count = len(keys)
        frequency: Counter[str] = Counter()
        for key in keys:
            frequency.update(trigrams(key))
        grams_sorted = sorted(frequency, key=gram_code)
        number = {gram: position for position, gram in enumerate(grams_sorted)}
        weight = {g: (math.log((1 + count) / (1 + df)) + 1) ** 2 for g, df in frequency.items()}
        common = bytes(frequency[g] * 2 > count for g in grams_sorted)
        bits = {g: 0 if rare(df, count) else 1 << signature_bit(number[g]) for g, df in frequency.items()}
        common_grams = {g for g, df in frequency.items() if df * 2 > count}
        del frequency
        lists = [array("I") for _ in grams_sorted]
        norms, frequent, signatures = array("d"), array("d"), bytearray()
        for index, key in enumerate(keys):
            grams = trigrams(key)
            total = sum(map(weight.__getitem__, grams))
            norms.append(math.sqrt(total) or 1.0)
            frequent.append(total)  # less its rare trigrams' weights, taken off below
            signatures += reduce(or_, map(bits.__getitem__, grams), 0).to_bytes(SIGNATURE_BYTES, "little")
            for gram in grams - common_grams:
                lists[number[gram]].append(index)
            for gram in common_grams - grams:  # a common trigram lists the examples without it
                lists[number[gram]].append(index)
        offsets, entries = array("Q", [0]), array("I")
        ranked_offsets, ranked_entries = array("Q", [0]), array("I")
        for position, members in enumerate(lists):
            if not common[position] and rare(len(members), count):
                ranked_entries.extend(ranked(members, norms))
                rare_weight = weight[grams_sorted[position]]
                for index in members:
                    frequent[index] -= rare_weight
            entries.extend(members)
            offsets.append(len(entries))
            ranked_offsets.append(len(ranked_entries))
            lists[position] = array("I")
        # A stable sort of the numbers by norm alone is the (norm, number) order: its C part compares floats, not
        # tuples, and holds the GIL (so the event loop) for a third of the time.
        by_norm = array("I", sorted(range(count), key=norms.__getitem__))
        codes = array("Q", map(gram_code, grams_sorted))
        weights = array("d", map(weight.__getitem__, grams_sorted))
        orders = by_norm, frequent, by_bound(count, norms, frequent, by_norm), ranked_offsets, ranked_entries
        return Postings(count, codes, weights, common, offsets, entries, norms, *orders, bytes(signatures))

    def find(self, gram: str) -> int | None:
        """The trigram's position, or None if no example has it (the last FOUND_CACHE looked up are kept)."""
        try:
            return self._found[gram]
        except KeyError:
            pass
        code = gram_code(gram)
        at = bisect_left(self.codes, code)
        position = at if at < len(self.codes) and self.codes[at] == code else None
        if len(self._found) >= FOUND_CACHE:
            self._found.clear()
        self._found[gram] = position
        return position

    def weight(self, gram: str) -> float:
        position = self.find(gram)
        return self.unknown_weight if position is None else self.weights[position]

    def most_similar(self, grams: set[str], own_grams: OwnGrams | None = None) -> tuple[int, float]:
        """The best example for a query's trigrams (ties: the earlier example), and its cosine.

        Rare trigrams first: their few examples are the candidates, scored exactly as the full scan scores
        them; the full scan runs only when the trigrams left over could still lift an unseen example above the
        best candidate (an example's score dot/|d| is at most sqrt(dot), and dot at most the weight left).
        `own_grams(example)`, an example's trigrams, lets a candidate be scored from its text rather than by
        searching every posting list.
        """
        positions = [(gram, self.find(gram)) for gram in grams]  # each trigram looked up once
        weights, unknown = self.weights, self.unknown_weight
        query_norm = math.sqrt(sum(unknown if p is None else weights[p] for _, p in positions)) or 1.0
        known = [(gram, position) for gram, position in positions if position is not None]
        found = [(position, weights[position]) for _, position in known]
        best = self._pruned(found, [gram for gram, _ in known], own_grams)
        index, ratio = best if best is not None else self._scan(found)
        return index, ratio / query_norm

    def _scan(self, found: list[tuple[int, float]]) -> tuple[int, float]:
        """Every example: (base + extra) / |d|, the best ratio and the earliest example with it."""
        base = 0.0
        delta: dict[int, float] = {}
        for position, weight in found:
            if self.common[position]:
                base += weight
                weight = -weight
            for index in self.entries[self.offsets[position] : self.offsets[position + 1]]:
                delta[index] = delta.get(index, 0.0) + weight
        norms = self.norms
        candidates = [(-(base + extra) / norms[index], index) for index, extra in delta.items()]
        untouched = next((index for index in self.by_norm if index not in delta), None)
        if untouched is not None:
            candidates.append((-base / norms[untouched], untouched))
        score, index = min(candidates)
        return index, -score

    def _scorer(
        self, found: list[tuple[int, float]], base: float, grams: list[str] | None, own_grams: OwnGrams | None
    ) -> Callable[[int], float]:
        """One example's ratio, from its own trigrams when given, summed in the full scan's order (same float)."""
        if grams is None or own_grams is None:
            return lambda index: self._exact(found, base, index)
        rows = [(gram, self.common[position], weight) for gram, (position, weight) in zip(grams, found, strict=True)]
        norms = self.norms

        def ratio(index: int) -> float:
            own = own_grams(index)
            extra = 0.0
            for gram, common, weight in rows:
                if (gram in own) != common:  # a regular trigram it has, or a common one it lacks
                    extra += -weight if common else weight
            return (base + extra) / norms[index]

        return ratio

    def _exact(self, found: list[tuple[int, float]], base: float, index: int) -> float:
        """One example's ratio, summed in the same order as the full scan (so the same float)."""
        extra = 0.0
        entries, offsets = self.entries, self.offsets
        for position, weight in found:
            low, high = offsets[position], offsets[position + 1]
            at = bisect_left(entries, index, low, high)
            if at < high and entries[at] == index:
                extra += -weight if self.common[position] else weight
        return (base + extra) / self.norms[index]

    def _pruned(
        self, found: list[tuple[int, float]], grams: list[str] | None = None, own_grams: OwnGrams | None = None
    ) -> tuple[int, float] | None:
        base = sum(weight for position, weight in found if self.common[position])
        score = self._scorer(found, base, grams, own_grams)
        found_best = bounded(self, score, found, base)
        if found_best is not None:
            return -found_best[1], found_best[0]
        regular = sorted((w, p) for p, w in found if not self.common[p])
        left = sum(weight for weight, _ in regular)
        norms, partial = self.norms, dict[int, float]()
        touched, best, top, top_ratio = 0, (-math.inf, 0), -1, -math.inf
        evaluated: set[int] = set()
        while regular:
            weight, position = regular.pop()  # heaviest (rarest) first
            low, high = self.offsets[position], self.offsets[position + 1]
            touched += high - low
            if touched > PRUNE_BUDGET:
                return None
            for index in self.entries[low:high]:
                value = partial[index] = partial.get(index, 0.0) + weight
                if value / norms[index] > top_ratio:
                    top, top_ratio = index, value / norms[index]
            left -= weight
            if top not in evaluated:
                evaluated.add(top)
                best = max(best, (score(top), -top))
            if math.sqrt(max(base + left, 0.0)) < best[0] * (1 - MARGIN):
                break
        else:
            if not partial or math.sqrt(max(base, 0.0)) >= best[0] * (1 - MARGIN):
                return None
        rest = base + left
        bar = best[0] * (1 - MARGIN)
        # dot <= value + rest, and dot / |d| <= min(dot / |d|, sqrt(dot), |d|) since dot <= |d|^2.
        bounds = [
            (min((value + rest) / norms[index], math.sqrt(value + rest), norms[index]), index)
            for index, value in partial.items()
        ]
        # Highest bound first: once a bound falls below the best score found, no later candidate can reach it.
        for bound, index in sorted((b for b in bounds if b[0] >= bar), reverse=True):
            if bound < best[0] * (1 - MARGIN):
                break
            if index not in evaluated:
                best = max(best, (score(index), -index))
        return -best[1], best[0]

    @property
    def nbytes(self) -> int:
        arrays: list[array[int] | array[float]] = [self.codes, self.weights, self.offsets, self.entries]
        arrays += [self.norms, self.by_norm, self.frequent, self.by_bound, self.ranked_offsets, self.ranked]
        return len(self.common) + len(self.signatures) + sum(a.itemsize * len(a) for a in arrays)


# bytes ----------------------------------------------------------------------------------------------------


def _little(values: array[int] | array[float]) -> bytes:
    if sys.byteorder == "little":
        return values.tobytes()
    swapped = array(values.typecode, values)
    swapped.byteswap()
    return swapped.tobytes()


def _array(typecode: str, data: bytes) -> array[int] | array[float]:
    values = array(typecode)
    values.frombytes(data)
    if sys.byteorder != "little":
        values.byteswap()
    return values


def dump(
    separator: str,
    texts: Texts,
    prompts: array[int],
    completions: array[int],
    hashes: array[int],
    order: array[int],
    postings: Postings | None,
    answers: array[int],
) -> bytes:
    """The index as one buffer; without its similarity part when that is not built yet."""
    parts: list[tuple[str, bytes]] = [
        ("b", separator.encode(*_ENCODING)),
        ("b", texts.data),
        ("Q", _little(texts.offsets)),
        ("I", _little(prompts)),
        ("I", _little(completions)),
        ("Q", _little(hashes)),
        ("I", _little(order)),
        ("I", _little(answers)),
    ]
    if postings is not None:
        parts += [
            ("Q", _little(postings.codes)),
            ("d", _little(postings.weights)),
            ("b", postings.common),
            ("Q", _little(postings.offsets)),
            ("I", _little(postings.entries)),
            ("d", _little(postings.norms)),
            ("I", _little(postings.by_norm)),
            ("d", _little(postings.frequent)),
            ("I", _little(postings.by_bound)),
            ("Q", _little(postings.ranked_offsets)),
            ("I", _little(postings.ranked)),
            ("b", postings.signatures),
        ]
    header = MAGIC + struct.pack("<Q", 0 if postings is None else postings.count)
    return header + b"".join(struct.pack("<cQ", kind.encode(), len(data)) + data for kind, data in parts)


def _sections(data: bytes) -> Iterator[tuple[str, bytes]]:
    position = len(MAGIC) + 8
    while position < len(data):
        kind, size = struct.unpack_from("<cQ", data, position)
        position += 9
        yield kind.decode(), data[position : position + size]
        position += size


def load(
    data: bytes,
) -> tuple[str, Texts, array[int], array[int], array[int], array[int], Postings | None, array[int]]:
    """The parts `dump` wrote; ValueError if the buffer is not an index of this version."""
    if not data.startswith(MAGIC) or len(data) < len(MAGIC) + 8:
        raise ValueError("not a nearest-prompt index of this version")
    (count,) = struct.unpack_from("<Q", data, len(MAGIC))
    try:
        raw = [part if kind == "b" else _array(kind, part) for kind, part in _sections(data)]
    except (struct.error, ValueError):
        raise ValueError("truncated nearest-prompt index") from None
    if len(raw) not in (8, 20):
        raise ValueError("truncated nearest-prompt index")
    sep, text_data, text_offsets, prompts, completions, hashes, order, answers = raw[:8]
    assert isinstance(sep, bytes) and isinstance(text_data, bytes)
    postings = None
    if len(raw) == 20:
        codes, weights, common, offsets, entries, norms, by_norm, frequent, by_bound, ranks, ranked, signatures = raw[
            8:
        ]
        assert isinstance(common, bytes) and isinstance(signatures, bytes)
        orders = by_norm, frequent, by_bound, ranks, ranked, signatures
        postings = Postings(count, codes, weights, common, offsets, entries, norms, *orders)  # type: ignore[arg-type]
    texts = Texts(text_data, text_offsets)  # type: ignore[arg-type]
    return sep.decode(*_ENCODING), texts, prompts, completions, hashes, order, postings, answers  # type: ignore[return-value]
