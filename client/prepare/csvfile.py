"""CSV and TSV as pandas `read_csv(sep, dtype=str).fillna("")` reads them: NA words, blank lines, implicit index."""

from __future__ import annotations

import csv
import sys
from collections import defaultdict
from collections.abc import Iterator
from typing import TextIO

from client.prepare.table import Column, Table, pick

# pandas' default `na_values` (pandas._libs.parsers.STR_NA_VALUES): these cells read as missing, i.e. "".
NA_VALUES = frozenset(
    {
        "",
        "#N/A",
        "#N/A N/A",
        "#NA",
        "-1.#IND",
        "-1.#QNAN",
        "-NaN",
        "-nan",
        "1.#IND",
        "1.#QNAN",
        "<NA>",
        "N/A",
        "NA",
        "NULL",
        "NaN",
        "None",
        "n/a",
        "nan",
        "null",
    }
)


class MalformedFile(ValueError):
    """The file cannot be read in its format; `line` is 1-based when known."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


def column_names(header: list[object]) -> list[Column]:
    """pandas' names: `Unnamed: {i}` for blanks, then `x.1`, `x.2`, … for repeats."""
    names = [f"Unnamed: {i}" if name in ("", None) else name for i, name in enumerate(header)]
    counts: defaultdict[object, int] = defaultdict(int)
    result: list[Column] = []
    for name in names:
        count = counts[name]
        candidate = name
        while count > 0:
            counts[name] = count + 1
            candidate = f"{name}.{count}"
            count = counts[candidate]
        counts[candidate] = count + 1
        result.append(candidate if isinstance(candidate, int | str) else str(candidate))
    return result


def _blank(row: list[str], delimiter: str) -> bool:
    if not row:
        return True
    whitespace = " " if delimiter == "\t" else " \t"
    return len(row) == 1 and row[0] != "" and row[0].strip(whitespace) == ""


def _rows(handle: TextIO, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(handle, delimiter=delimiter, quotechar='"', doublequote=True, strict=False)
    try:
        for row in reader:
            if not _blank(row, delimiter):
                yield reader.line_num, row
    except csv.Error as exc:
        raise MalformedFile(str(exc), reader.line_num) from None


def _cells(width: int, rows: Iterator[tuple[int, list[str]]]) -> Iterator[list[str]]:
    first = next(rows, None)
    if first is None:
        return
    shift = 1 if len(first[1]) == width + 1 else 0
    limit = width + shift
    for line, row in _chain(first, rows):
        if len(row) > limit:
            raise MalformedFile(f"expected {limit} fields, saw {len(row)}", line)
        values = ["" if v in NA_VALUES else v for v in row[shift:]]
        if len(values) < width:
            values += [""] * (width - len(values))
        yield values


def _chain(first: tuple[int, list[str]], rest: Iterator[tuple[int, list[str]]]) -> Iterator[tuple[int, list[str]]]:
    yield first
    yield from rest


def read_delimited(path: str, delimiter: str) -> Table:
    """Rows of a CSV (`,`) or TSV (`\\t`) file; raises MalformedFile (or UnicodeDecodeError)."""
    csv.field_size_limit(sys.maxsize)
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = _rows(handle, delimiter)
        header = next(rows, None)
        if header is None:
            raise MalformedFile("No columns to parse from file")
        columns = column_names(list(header[1]))
        return pick(columns, _cells(len(columns), rows))
