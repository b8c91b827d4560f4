"""The in-memory data set: column names as the legacy tool sees them, plus the prompt and completion values."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import repeat

FIELDS = ("prompt", "completion")
Column = str | int
Say = Callable[[str], None]
Fix = Callable[["Table", Say], None]


@dataclass(frozen=True)
class Finding:
    """One validator's outcome (the legacy tool's `Remediation`): messages, fixes, or an error."""

    name: str
    immediate: str | None = None
    necessary: str | None = None
    recommended: str | None = None
    error: str | None = None
    rows: tuple[int, ...] = ()
    necessary_fix: Fix | None = field(default=None, compare=False, repr=False)
    recommended_fix: Fix | None = field(default=None, compare=False, repr=False)


class PrepareError(Exception):
    """A validator (or the reader) refused the data: `ERROR in {name} validator: {message}`."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


@dataclass
class Table:
    """Rows in file order. Only the columns that become `prompt` and `completion` keep their values."""

    columns: list[Column]
    prompts: list[str]
    completions: list[str]
    read: Finding | None = None
    rows_dropped: bool = False

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
