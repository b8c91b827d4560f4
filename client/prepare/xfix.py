"""Column statistics the validators share: common prefix/suffix, task type, letter case counts."""

from __future__ import annotations

import os
import re
from collections import Counter
from itertools import repeat

CHUNK = 4096
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_UPPER = bytes(range(65, 91))
_LOWER = bytes(range(97, 123))


def common_prefix(values: list[str]) -> str:
    """The longest string every value starts with ("" for no values)."""
    if not values:
        return ""
    return os.path.commonprefix([min(values), max(values)])  # noqa: RUF071 (character-wise on purpose)


def common_suffix(values: list[str]) -> str:
    """The longest string every value ends with ("" for no values)."""
    if not values:
        return ""
    suffix = values[0]
    if all(map(str.endswith, values, repeat(suffix))):
        return suffix
    for value in values:
        while suffix and not value.endswith(suffix):
            suffix = suffix[len(suffix) - _shared_tail(value, suffix) :]
    return suffix


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
    if len(set(completions)) < len(completions) / 3:
        return "classification"
    return "conditional generation"


def case_counts(values: list[str]) -> tuple[int, int]:
    """(upper-case letters, lower-case letters) over all values, as `c.isalpha() and c.isupper()` counts."""
    upper = lower = 0
    for start in range(0, len(values), CHUNK):
        text = "".join(values[start : start + CHUNK])
        data = text.encode("utf-8", "surrogatepass")
        upper += len(data) - len(data.translate(None, _UPPER))
        lower += len(data) - len(data.translate(None, _LOWER))
        if not text.isascii():
            for char, count in Counter(_NON_ASCII.findall(text)).items():
                if char.isalpha():
                    upper += count if char.isupper() else 0
                    lower += count if char.islower() else 0
    return upper, lower


def display(text: str) -> str:
    """Newlines shown as the two characters `\\n`, as the legacy messages do."""
    return text.replace("\n", "\\n")
