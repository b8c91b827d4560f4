"""A nearest-prompt lookup's bounds: once the query's rare trigrams are counted, which examples could still win."""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from emulator.inference.compact import Postings

RARE_SHARE = 256  # a trigram is rare when fewer than 1 in RARE_SHARE examples contain it
BUDGET = 64  # examples a bounded lookup may score exactly before it gives way to the pruned lookup
WALK = 4096  # examples a bounded lookup may read in a rare list, or outside them, before it gives way
BUCKETS = 64  # runs of examples by norm, each ordered by its bound (see `unseen`)
SIGNATURE_BYTES = 32  # an example's signature: one bit per (hashed) trigram that is not rare
LAYER = 0.8  # trigrams share a layer of the signature bound when within this ratio of its heaviest weight
MARGIN = 1e-9  # bounds are compared with this relative slack: float sums in another order differ in the last bits

Best = tuple[float, int]  # (ratio, -example): the larger wins, so ties go to the earlier example


def rare(examples: int, count: int) -> bool:
    """Whether a trigram in `examples` of `count` examples is rare (its examples are counted first)."""
    return examples * RARE_SHARE < count


def by_bound(count: int, norms: array[float], frequent: array[float], by_norm: array[int]) -> array[int]:
    """`by_norm` cut into BUCKETS runs, each ordered by frequent / |d|, highest first (ties: earlier example)."""
    size = -(-count // BUCKETS)
    runs = (sorted(by_norm[at : at + size], key=lambda i: (-frequent[i] / norms[i], i)) for at in range(0, count, size))
    return array("I", (index for run in runs for index in run))


def ranked(members: Iterable[int], norms: array[float]) -> list[int]:
    """A rare trigram's examples by norm (then number): `bounded` reads only those of norms that could win."""
    return sorted(members, key=lambda index: (norms[index], index))


def signature_bit(position: int) -> int:
    """The bit of a trigram (by its position) in an example's signature."""
    return (position * 0x9E3779B1 >> 11) % (8 * SIGNATURE_BYTES)


def overlap(postings: Postings, grams: list[tuple[float, int]]) -> Callable[[int], float]:
    """A bound on the weight an example shares with these (not rare) trigrams, read from its signature.

    The trigrams are put in layers of similar weight whose bits differ, so a layer's shared bits (popcount)
    times its heaviest weight bounds what that layer's trigrams add to the example's dot product.
    """
    tops: list[float] = []
    masks: list[int] = []
    band = 0  # the first layer of the current band of weights (trigrams come heaviest first)
    for weight, position in sorted(grams, reverse=True):
        bit = 1 << signature_bit(position)
        if not tops or weight < tops[band] * LAYER:
            band = len(tops)
        layer = band
        while layer < len(tops) and masks[layer] & bit:
            layer += 1
        if layer == len(tops):
            tops.append(tops[band] if layer > band else weight)
            masks.append(bit)
        else:
            masks[layer] |= bit
    layers = list(zip(tops, masks, strict=True))
    signatures, size = postings.signatures, SIGNATURE_BYTES

    def bound(index: int) -> float:
        mine = int.from_bytes(signatures[index * size : index * size + size], "little")
        return sum(top * (mine & mask).bit_count() for top, mask in layers)

    return bound


def bounded(
    postings: Postings, score: Callable[[int], float], found: list[tuple[int, float]], base: float
) -> Best | None:
    """The best example, scoring only those whose bound reaches the best found (None: too many could).

    With the query's rare trigrams counted (`value`), an example can gain at most the weight left (`rest`), at
    most the weight of its own trigrams that are not rare (`frequent`), and at most what its signature allows
    (`overlap`): dot <= value + min(rest, frequent, overlap), and dot / |d| <= |d|. An example in one rare
    trigram's list only has value = that weight, so each list is read by norm (`ranked`) and only for norms
    from the best to (weight + rest) / best; examples in several are summed; the others are `unseen`.
    """
    count, offsets, entries, common = postings.count, postings.offsets, postings.entries, postings.common
    norms, frequent = postings.norms, postings.frequent
    lists: list[tuple[float, int, set[int]]] = []
    others: list[tuple[float, int]] = []
    for position, weight in found:
        low, high = offsets[position], offsets[position + 1]
        if common[position] or not rare(high - low, count):
            others.append((weight, position))
        else:
            lists.append((weight, position, set(entries[low:high])))
    if not lists:
        return None
    several = set[int]().union(*(a[2] & b[2] for at, a in enumerate(lists) for b in lists[at + 1 :]))
    rest = sum(weight for weight, _ in others)
    layers: list[Callable[[int], float]] = []

    def shared(index: int) -> float:  # the signature bound, its layers made on first need
        if not layers:
            layers.append(overlap(postings, others))
        return layers[0](index)

    best: Best = (-math.inf, 0)
    bar, scored, walked = -math.inf, 0, 0

    def can_win(index: int, total: float) -> bool:
        if bar == -math.inf:  # nothing scored yet
            return True
        norm = norms[index]
        gain = min(rest, frequent[index])
        return norm >= bar and total + gain >= bar * norm and total + min(gain, shared(index)) >= bar * norm

    value = dict.fromkeys(several, 0.0)
    for weight, _, members in lists:
        for index in several & members:
            value[index] += weight
    first = sorted(
        ((min((v + min(rest, frequent[i])) / norms[i], norms[i]), i) for i, v in value.items()), reverse=True
    )
    for bound, index in first:
        if bound < bar:
            break
        if can_win(index, value[index]):
            scored += 1
            best = max(best, (score(index), -index))
            bar = best[0] * (1 - MARGIN)
    if not first:  # no example in two rare lists: start from the likeliest of the rarest list
        weight, position, members = max(lists)
        index = max(members, key=lambda i: (weight + min(rest, frequent[i])) / norms[i])
        scored, best = 1, (score(index), -index)
        bar = best[0] * (1 - MARGIN)
    for weight, position, _ in sorted(lists, reverse=True):
        ordered = ranked_of(postings, position)
        for index in ordered[bisect_left(ordered, bar, key=norms.__getitem__) :]:
            if norms[index] * bar > weight + rest:
                break  # an example only in this list gains at most weight + rest
            walked += 1
            if index not in several and can_win(index, weight):
                scored += 1
                best = max(best, (score(index), -index))
                bar = best[0] * (1 - MARGIN)
            if scored > BUDGET or walked > WALK:
                return None
    outside = unseen(postings, [members for _, _, members in lists], rest, bar, shared)
    if outside is None or scored + len(outside) > BUDGET:
        return None
    for index in outside:
        best = max(best, (score(index), -index))
    return best


def ranked_of(postings: Postings, position: int) -> array[int]:
    """A rare trigram's examples, by norm (see `ranked`)."""
    return postings.ranked[postings.ranked_offsets[position] : postings.ranked_offsets[position + 1]]


def unseen(
    postings: Postings, lists: list[set[int]], rest: float, bar: float, shared: Callable[[int], float]
) -> list[int] | None:
    """Examples in none of the rare trigrams' `lists` whose bound min(rest, frequent, shared) / |d| reaches `bar`.

    `by_bound` is `by_norm` cut into BUCKETS runs, each ordered by frequent / |d|, highest first, so only the
    runs of norms between bar and rest / bar are read, and each only while frequent / |d| reaches bar. None when
    too many.
    """
    if math.sqrt(max(rest, 0.0)) < bar:  # dot <= rest and dot <= |d|^2, so dot / |d| <= sqrt(rest)
        return []
    count, norms, frequent, by_norm = postings.count, postings.norms, postings.frequent, postings.by_norm
    seen = set[int]().union(*lists)
    size, found, walked = -(-count // BUCKETS), list[int](), 0
    for start in range(0, count, size):
        stop = min(start + size, count)
        if norms[by_norm[stop - 1]] < bar:
            continue
        if rest < bar * norms[by_norm[start]]:
            break
        for index in postings.by_bound[start:stop]:
            norm = norms[index]
            if frequent[index] / norm < bar:
                break
            walked += 1
            if walked > WALK or len(found) > BUDGET:
                return None
            if norm >= bar and rest >= bar * norm and index not in seen and shared(index) >= bar * norm:
                found.append(index)
    return found
