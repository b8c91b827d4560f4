"""The in-memory data set: column names as the legacy tool sees them, plus the prompt and completion values."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from itertools import repeat

from client.prepare import xfix

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
        return other.__class__ is self.__class__ and self._key() == other._key()  # type: ignore[attr-defined]

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
    """Rows in file order. Only the columns that become `prompt` and `completion` keep their values."""

    def __init__(
        self,
        columns: list[Column],
        prompts: list[str],
        completions: list[str],
        read: Finding | None = None,
        rows_dropped: bool = False,
    ) -> None:
        self.columns = columns
        self.prompts = prompts
        self.completions = completions
        self.read = read
        self.rows_dropped = rows_dropped
        self._longest: tuple[list[str], list[str], int, int] | None = None

    def remember_longest(self, prompt: int, completion: int) -> None:
        """The reader's longest prompt and completion lengths, valid while these very lists are the columns."""
        self._longest = (self.prompts, self.completions, prompt, completion)

    def longest(self) -> tuple[int, int]:
        """The longest prompt and completion lengths (0 for none): remembered from the reader, or measured."""
        known = self._longest
        if known is not None and known[0] is self.prompts and known[1] is self.completions:
            return known[2], known[3]
        return max(map(len, self.prompts), default=0), max(map(len, self.completions), default=0)

    def _key(self) -> tuple[object, ...]:
        return (self.columns, self.prompts, self.completions, self.read, self.rows_dropped)

    def __eq__(self, other: object) -> bool:
        return other.__class__ is self.__class__ and self._key() == other._key()  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"Table(columns={self.columns!r}, prompts={self.prompts!r}, completions={self.completions!r}, "
            f"read={self.read!r}, rows_dropped={self.rows_dropped!r})"
        )

    def __len__(self) -> int:
        return len(self.completions)

    def copy(self) -> Table:
        return Table(list(self.columns), list(self.prompts), list(self.completions), self.read, self.rows_dropped)

    def keep(self, positions: Iterable[int]) -> None:
        """Keep only the rows at these positions (in order)."""
        kept = list(positions)
        if len(kept) != len(self):
            self.rows_dropped = True
        self.prompts = [self.prompts[i] for i in kept]
        self.completions = [self.completions[i] for i in kept]

    def map_column(self, name: str, change: Callable[[str], str], chunk: int = 4096) -> None:
        """Rewrite `prompts` or `completions` value by value, a chunk at a time, so old strings are freed (and
        their memory reused) as the new ones are made; the list object is replaced so memoised stats see a change.
        """
        values: list[str] = getattr(self, name)
        for start in range(0, len(values), chunk):
            values[start : start + chunk] = list(map(change, values[start : start + chunk]))
        setattr(self, name, values[:])

    def append_to(self, name: str, suffix: str, chunk: int = 4096) -> None:
        """Add `suffix` to every value of `prompts` or `completions` (as map_column, with no Python call per value)."""
        values: list[str] = getattr(self, name)
        for start in range(0, len(values), chunk):
            values[start : start + chunk] = list(map(operator.add, values[start : start + chunk], repeat(suffix)))
        setattr(self, name, values[:])

    # What the checks ask of the data. `column` is "prompts" or "completions".
    def values(self, column: str) -> list[str]:
        values: list[str] = getattr(self, column)
        return values

    def task_type(self) -> str:
        return xfix.task_type(self.prompts, self.completions)

    def common_prefix(self, column: str) -> str:
        return xfix.common_prefix(self.values(column))

    def common_suffix(self, column: str) -> str:
        return xfix.common_suffix(self.values(column))

    def all_equal(self, column: str, value: str) -> bool:
        """Every value is `value` (true of no values)."""
        values = self.values(column)
        return values.count(value) == len(values)

    def present(self, column: str, needles: Iterable[str]) -> set[str]:
        return xfix.present(self.values(column), needles)

    def repeats(self, column: str, suffix: str) -> bool:
        return xfix.repeats(self.values(column), suffix)

    def mostly_upper(self, column: str) -> bool:
        return xfix.mostly_upper(self.values(column))

    def count_starting(self, column: str, prefix: str) -> int:
        return sum(map(str.startswith, self.values(column), repeat(prefix)))

    def empty_completion_rows(self) -> list[int]:
        if "" not in self.completions:
            return []
        return [i for i, c in enumerate(self.completions) if c == ""]

    def duplicate_rows(self) -> list[int]:
        from client.prepare.validators import duplicate_positions

        return duplicate_positions(self)

    def long_rows(self) -> list[int]:
        from client.prepare.validators import long_positions

        return long_positions(self)

    def write_file(self, path: str) -> None:
        """The prepared JSON lines, written to `path`."""
        from client.prepare.writer import write_rows

        with open(path, "wb") as handle:
            write_rows(handle, self)

    def records(self) -> list[dict[str, str]]:
        return [{"prompt": p, "completion": c} for p, c in zip(self.prompts, self.completions, strict=True)]

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, object]]) -> Table:
        """Records as dictionaries (JSONL objects); values are made strings as the legacy reader does."""
        from client.prepare.jsonfile import table_from_objects

        return table_from_objects(list(records))


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
