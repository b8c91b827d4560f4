"""Column statistics the checks ask for, as pure functions of the values: prefixes, suffixes, task type, case, rows."""

from __future__ import annotations

import itertools
import operator
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator

CHUNK = 4096
_ASCII = bytes(range(128))
_UPPER = bytes(range(65, 91))
_LOWER = bytes(range(97, 123))


def common_prefix(values: list[str]) -> str:
    """The longest string every value starts with ("" for no values)."""
    return _common_affix(values, str.startswith, _shared_prefix)


def common_suffix(values: list[str]) -> str:
    """The longest string every value ends with ("" for no values)."""
    return _common_affix(values, str.endswith, _shared_suffix)


def _common_affix(values: list[str], has: Callable[[str, str], bool], shrink: Callable[[str, str], str]) -> str:
    """The first value, shrunk to what it shares with each value that does not `has` it, found by a C-level scan
    (no Python call per value; usually "" within a few rows), instead of comparing every pair."""
    if not values:
        return ""
    affix, start = values[0], 1
    while affix:
        passes = map(has, itertools.islice(values, start, None), itertools.repeat(affix))
        miss = next(itertools.compress(itertools.count(start), map(operator.not_, passes)), None)
        if miss is None:
            return affix
        start = miss
        affix = shrink(affix, values[miss])
    return affix


def _shared_prefix(affix: str, value: str) -> str:
    return os.path.commonprefix([affix, value])  # noqa: RUF071 (character-wise on purpose)


def _shared_suffix(affix: str, value: str) -> str:
    return affix[len(affix) - _shared_tail(value, affix) :]


def _shared_tail(a: str, b: str) -> int:
    n = 0
    for x, y in zip(reversed(a), reversed(b), strict=False):
        if x != y:
            break
        n += 1
    return n


def task_type(prompts: list[str], completions: list[str]) -> str:
    """`open-ended generation`, `classification` (few distinct completions) or `conditional generation`."""
    if not any(prompts):
        return "open-ended generation"
    limit = len(completions) / 3
    distinct: set[str] = set()
    for start in range(0, len(completions), CHUNK * 16):
        distinct.update(completions[start : start + CHUNK * 16])
        if len(distinct) >= limit:
            return "conditional generation"  # enough distinct completions already: no need to hold them all
    return "classification" if len(distinct) < limit else "conditional generation"


def _case_class(code: int) -> int:
    char = chr(code)
    if not char.isalpha():
        return 0
    return 1 if char.isupper() else 2 if char.islower() else 0


_CASE = bytes(map(_case_class, range(256)))  # Latin-1 code point -> 0 (no case), 1 (upper), 2 (lower)


def case_counts(values: list[str]) -> tuple[int, int]:
    """(upper-case letters, lower-case letters) over all values, as `c.isalpha() and c.isupper()` counts.

    Text within Latin-1 (the common case) is encoded as one byte per character (a copy), mapped to its case
    class by one `bytes.translate` and counted by `bytes.count`, all in C; other text is counted per character.
    """
    upper = lower = 0
    for start in range(0, len(values), CHUNK):
        text = "".join(values[start : start + CHUNK])
        try:
            classes = text.encode("latin-1").translate(_CASE)
        except UnicodeEncodeError:
            u, lo = _wide_case_counts(text)
            upper, lower = upper + u, lower + lo
            continue
        upper += classes.count(1)
        lower += classes.count(2)
    return upper, lower


def mostly_upper(values: list[str]) -> bool:
    """`upper * 2 > lower` for the counts of `case_counts`, usually without counting every letter.

    No upper-case letter at all is the common case: Latin-1 text is mapped to case classes by one `bytes.translate`
    and searched with memchr (other text asks `str.islower()`, false on any upper-case character). Lower-case
    letters are counted only when some letter is upper case, and only until they reach twice the upper.
    """
    upper = upper_count(values)
    if upper == 0:
        return False
    lower = 0
    for start in range(0, len(values), CHUNK):
        lower += case_counts(values[start : start + CHUNK])[1]
        if upper * 2 <= lower:
            return False
    return True


def upper_count(values: list[str]) -> int:
    """The upper-case letters of `case_counts`, by a memchr search per chunk when there are none."""
    upper = 0
    for start in range(0, len(values), CHUNK):
        chunk = values[start : start + CHUNK]
        text = "".join(chunk)
        try:
            classes = text.encode("latin-1").translate(_CASE)
        except UnicodeEncodeError:
            if not text.islower():
                upper += case_counts(chunk)[0]
            continue
        if 1 in classes:
            upper += classes.count(1)
    return upper


def _wide_case_counts(text: str) -> tuple[int, int]:
    data = text.encode("utf-8", "surrogatepass")
    upper = len(data) - len(data.translate(None, _UPPER))
    lower = len(data) - len(data.translate(None, _LOWER))
    others = data.translate(None, _ASCII).decode("utf-8", "surrogatepass")
    for char, count in Counter(others).items():
        if char.isalpha():
            upper += count if char.isupper() else 0
            lower += count if char.islower() else 0
    return upper, lower


JOIN_CHUNK = 4096  # values joined at a time: the scans stay in cache and reuse one buffer's pages


def _chunks(values: list[str]) -> Iterator[str]:
    """The values, `\x00` between them, a chunk at a time: a needle without `\x00` never matches across two."""
    for start in range(0, len(values), JOIN_CHUNK):
        yield "\x00".join(values[start : start + JOIN_CHUNK])


def present(values: list[str], needles: Iterable[str]) -> set[str]:
    """Which needles some value contains, in one chunked pass (a needle with a character absent from a chunk
    is settled there by one memchr-speed scan per character)."""
    wanted = set(needles)
    found = {n for n in wanted if "\x00" in n and any(n in v for v in values)}
    wanted -= {n for n in wanted if "\x00" in n}
    for text in _chunks(values):
        if not wanted:
            break
        hits = {n for n in wanted if all(char in text for char in set(n)) and n in text}
        found |= hits
        wanted -= hits
    return found


def repeats(values: list[str], suffix: str) -> bool:
    """Some value holds the suffix before its end too (`v[:-len(suffix)]` contains it).

    Every value ends with it, so that is "two non-overlapping occurrences in a value": more than one per value.
    """
    if "\x00" in suffix:
        return any(suffix in v[: -len(suffix)] for v in values)
    return sum(text.count(suffix) for text in _chunks(values)) > len(values)


def all_equal(values: list[str], value: str) -> bool:
    """Every value is `value` (true of no values)."""
    return values.count(value) == len(values)


def count_starting(values: list[str], prefix: str) -> int:
    return sum(map(str.startswith, values, itertools.repeat(prefix)))


def empty_positions(values: list[str]) -> list[int]:
    if "" not in values:
        return []
    return [i for i, v in enumerate(values) if v == ""]


def duplicate_positions(prompts: list[str], completions: list[str]) -> list[int]:
    """Positions of rows repeating an earlier (prompt, completion) pair: hashes first, strings only on a hit."""
    if len(set(prompts)) == len(prompts):
        return []  # all prompts differ (the usual case): no pair can repeat, and no tuples need hashing
    hashes = list(map(hash, zip(prompts, completions, strict=True)))
    if len(set(hashes)) == len(hashes):
        return []
    seen: set[int] = set()
    suspects = set()
    for h in hashes:
        if h in seen:
            suspects.add(h)
        seen.add(h)
    first: set[tuple[str, str]] = set()
    rows = []
    for i, pair in enumerate(zip(prompts, completions, strict=True)):
        if hashes[i] in suspects:
            if pair in first:
                rows.append(i)
            first.add(pair)
    return rows


def long_positions(prompts: list[str], completions: list[str], limit: int) -> list[int]:
    """Positions of rows whose prompt and completion together are longer than `limit` characters."""
    lengths = map(operator.add, map(len, prompts), map(len, completions))
    return [i for i, n in enumerate(lengths) if n > limit]
