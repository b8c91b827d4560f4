"""Column statistics the validators share: common prefix/suffix, task type, letter case counts."""

from __future__ import annotations

import itertools
import operator
import os
from collections import Counter
from collections.abc import Iterable, Iterator

CHUNK = 4096
_ASCII = bytes(range(128))
_UPPER = bytes(range(65, 91))
_LOWER = bytes(range(97, 123))


def common_prefix(values: list[str]) -> str:
    """The longest string every value starts with ("" for no values): a C-level `startswith` scan that shrinks
    the candidate at each miss (usually to "" within a few rows), instead of comparing every pair for min/max.
    """
    if not values:
        return ""
    prefix, start = values[0], 1
    while prefix:
        starts = map(str.startswith, itertools.islice(values, start, None), itertools.repeat(prefix))
        miss = next(itertools.compress(itertools.count(start), map(operator.not_, starts)), None)
        if miss is None:
            return prefix
        start = miss
        prefix = os.path.commonprefix([prefix, values[miss]])  # noqa: RUF071 (character-wise on purpose)
    return prefix


_last_suffix: tuple[list[str], str] | None = None
_last_task: tuple[list[str], list[str], str] | None = None


def forget() -> None:
    """Drop the remembered results (and the lists they hold); a new analysis starts from scratch."""
    global _last_suffix, _last_task
    _last_suffix = _last_task = None


def common_suffix(values: list[str]) -> str:
    """The longest string every value ends with ("" for no values); remembered for the last list."""
    global _last_suffix
    if _last_suffix is not None and _last_suffix[0] is values:
        return _last_suffix[1]
    suffix = _common_suffix(values)
    _last_suffix = (values, suffix)
    return suffix


def _common_suffix(values: list[str]) -> str:
    if not values:
        return ""
    suffix, start = values[0], 1
    while suffix:
        # C-level scan (no intermediate list) for the next value that does not end with the current candidate.
        ends = map(str.endswith, itertools.islice(values, start, None), itertools.repeat(suffix))
        miss = next(itertools.compress(itertools.count(start), map(operator.not_, ends)), None)
        if miss is None:
            return suffix
        start = miss
        suffix = suffix[len(suffix) - _shared_tail(values[start], suffix) :]
    return suffix


def _shared_tail(a: str, b: str) -> int:
    n = 0
    for x, y in zip(reversed(a), reversed(b), strict=False):
        if x != y:
            break
        n += 1
    return n


def task_type(prompts: list[str], completions: list[str]) -> str:
    """`open-ended generation`, `classification` (few distinct completions) or `conditional generation`.

    Remembered for the last pair of lists (fixes always make new lists, never change them in place).
    """
    global _last_task
    if _last_task is not None and _last_task[0] is prompts and _last_task[1] is completions:
        return _last_task[2]
    result = _task_type(prompts, completions)
    _last_task = (prompts, completions, result)
    return result


def _task_type(prompts: list[str], completions: list[str]) -> str:
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


def contains(values: list[str], needle: str) -> bool:
    return bool(present(values, [needle]))


def repeats(values: list[str], suffix: str) -> bool:
    """Some value holds the suffix before its end too (`v[:-len(suffix)]` contains it).

    Every value ends with it, so that is "two non-overlapping occurrences in a value": more than one per value.
    """
    if "\x00" in suffix:
        return any(suffix in v[: -len(suffix)] for v in values)
    return sum(text.count(suffix) for text in _chunks(values)) > len(values)


def display(text: str) -> str:
    """Newlines shown as the two characters `\\n`, as the legacy messages do."""
    return text.replace("\n", "\\n")
