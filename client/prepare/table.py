"""The in-memory data set: column names as the legacy tool sees them, plus the prompt and completion values."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from itertools import repeat

from client.prepare import stats

FIELDS = ("prompt", "completion")
Column = str | int
Say = Callable[[str], None]
Fix = Callable[["Table", Say], None]


class Finding:
    """One validator's outcome (the legacy tool's `Remediation`): messages, fixes, or an error.

    Immutable; equal when everything but the fixes is equal. A plain class: `dataclasses` costs ~6 ms to import.
    """

    __slots__ = ("error", "immediate", "name", "necessary", "necessary_fix", "recommended", "recommended_fix", "rows")
    name: str
    immediate: str | None
    necessary: str | None
    recommended: str | None
    error: str | None
    rows: tuple[int, ...]
    necessary_fix: Fix | None
    recommended_fix: Fix | None

    def __init__(
        self,
        name: str,
        immediate: str | None = None,
        necessary: str | None = None,
        recommended: str | None = None,
        error: str | None = None,
        rows: tuple[int, ...] = (),
        necessary_fix: Fix | None = None,
        recommended_fix: Fix | None = None,
    ) -> None:
        values = (name, immediate, necessary, recommended, error, rows, necessary_fix, recommended_fix)
        for slot, value in zip(_FINDING_FIELDS, values, strict=True):
            object.__setattr__(self, slot, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def _key(self) -> tuple[object, ...]:
        return (self.name, self.immediate, self.necessary, self.recommended, self.error, self.rows)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Finding) and other.__class__ is self.__class__ and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={v!r}" for n, v in zip(_FINDING_FIELDS[:6], self._key(), strict=True))
        return f"Finding({shown})"


_FINDING_FIELDS = ("name", "immediate", "necessary", "recommended", "error", "rows", "necessary_fix", "recommended_fix")


class PrepareError(Exception):
    """A validator (or the reader) refused the data: `ERROR in {name} validator: {message}`."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


class Table:
    """Rows in file order. Only the columns that become `prompt` and `completion` keep their values.

    The statistics the checks ask for more than once (the task type, a column's common suffix, the longest values)
    are remembered here until the values change: by assigning `prompts` or `completions`, or through `keep`,
    `map_column` or `append_to` (changing a list in place by other means leaves them stale).
    """

    def __init__(
        self,
        columns: list[Column],
        prompts: list[str],
        completions: list[str],
        read: Finding | None = None,
        rows_dropped: bool = False,
    ) -> None:
        self.columns = columns
        self._prompts = prompts
        self._completions = completions
        self.read = read
        self.rows_dropped = rows_dropped
        self._longest: tuple[int, int] | None = None
        self._memo: dict[str, str] = {}

    @property
    def prompts(self) -> list[str]:
        return self._prompts

    @prompts.setter
    def prompts(self, values: list[str]) -> None:
        self._prompts = values
        self._forget()

    @property
    def completions(self) -> list[str]:
        return self._completions

    @completions.setter
    def completions(self, values: list[str]) -> None:
        self._completions = values
        self._forget()

    def values(self, column: str) -> list[str]:
        """The values of `column`, "prompts" or "completions"."""
        if column == "prompts":
            return self._prompts
        if column == "completions":
            return self._completions
        raise ValueError(f"no column {column!r}")

    def _forget(self) -> None:
        self._longest = None
        self._memo.clear()

    def remember_longest(self, prompt: int, completion: int) -> None:
        """The reader's longest prompt and completion lengths, valid until the values change."""
        self._longest = (prompt, completion)

    def longest(self) -> tuple[int, int]:
        """The longest prompt and completion lengths (0 for none)."""
        if self._longest is None:
            self._longest = max(map(len, self._prompts), default=0), max(map(len, self._completions), default=0)
        return self._longest

    def task_type(self) -> str:
        """`open-ended generation`, `classification` or `conditional generation` (see stats.task_type)."""
        if "task_type" not in self._memo:
            self._memo["task_type"] = stats.task_type(self._prompts, self._completions)
        return self._memo["task_type"]

    def common_suffix(self, column: str) -> str:
        """The longest string every value of `column` ends with."""
        key = "common_suffix " + column
        if key not in self._memo:
            self._memo[key] = stats.common_suffix(self.values(column))
        return self._memo[key]

    def _key(self) -> tuple[object, ...]:
        return (self.columns, self.prompts, self.completions, self.read, self.rows_dropped)

    def __eq__(self, other: object) -> bool:  # defining __eq__ alone leaves a Table unhashable, as it should be
        return isinstance(other, Table) and other.__class__ is self.__class__ and self._key() == other._key()

    def __repr__(self) -> str:
        return (
            f"Table(columns={self.columns!r}, prompts={self.prompts!r}, completions={self.completions!r}, "
            f"read={self.read!r}, rows_dropped={self.rows_dropped!r})"
        )

    def __len__(self) -> int:
        return len(self._completions)

    def copy(self) -> Table:
        return Table(list(self.columns), list(self.prompts), list(self.completions), self.read, self.rows_dropped)

    def keep(self, positions: Iterable[int]) -> None:
        """Keep only the rows at these positions (in order)."""
        kept = list(positions)
        if len(kept) != len(self):
            self.rows_dropped = True
        self.prompts = [self._prompts[i] for i in kept]
        self.completions = [self._completions[i] for i in kept]

    def map_column(self, column: str, change: Callable[[str], str], chunk: int = 4096) -> None:
        """Rewrite `column` value by value in place, a chunk at a time, so old strings are freed (and their memory
        reused) as the new ones are made."""
        values = self.values(column)
        for start in range(0, len(values), chunk):
            values[start : start + chunk] = list(map(change, values[start : start + chunk]))
        self._forget()

    def append_to(self, column: str, suffix: str, chunk: int = 4096) -> None:
        """Add `suffix` to every value of `column` (as map_column, with no Python call per value)."""
        values = self.values(column)
        for start in range(0, len(values), chunk):
            values[start : start + chunk] = list(map(operator.add, values[start : start + chunk], repeat(suffix)))
        self._forget()

    def records(self) -> list[dict[str, str]]:
        return [{"prompt": p, "completion": c} for p, c in zip(self.prompts, self.completions, strict=True)]


def source_column(columns: list[Column], name: str) -> int | None:
    """The column that is or will be renamed to `name` (exact match first, then case-insensitive)."""
    if name in columns:
        return columns.index(name)
    for index, column in enumerate(columns):
        if str(column).lower() == name:
            return index
    return None


def pick(columns: list[Column], rows: Iterable[list[str]]) -> Table:
    """A table keeping only the would-be prompt and completion values of each (already padded) row."""
    p = source_column(columns, "prompt")
    c = source_column(columns, "completion")
    prompts: list[str] = []
    completions: list[str] = []
    for row in rows:
        prompts.append(row[p] if p is not None else "")
        completions.append(row[c] if c is not None else "")
    return Table(columns, prompts, completions)
