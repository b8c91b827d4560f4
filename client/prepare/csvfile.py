"""CSV and TSV as pandas `read_csv(sep, dtype=str).fillna("")` reads them: NA words, blank lines, implicit index."""

from __future__ import annotations

import csv
import itertools
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator
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

_END = '\x00ftemu-eof"\x00'  # unquoted, the quote is literal; in an open quoted field it closes it
_END_QUOTED = "\x00ftemu-eof\x00"


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


class _Lines:
    """The file's lines as the csv reader pulls them, with two pandas tokenizer quirks.

    pandas eats a delimiter right after a blank line ended by a lone `\r` (its EAT_CRNL_NOP state), but not inside
    a quoted field; the reader emits a row exactly when a record ends, so `_rows` tells us via `record_ended`.
    """

    def __init__(self, handle: Iterable[str], delimiter: str) -> None:
        self.handle = handle
        self.delimiter = delimiter
        self.whitespace = " " if delimiter == "\t" else " \t"
        self.last = ""
        self.record_ended = True

    def _restored(self, line: str) -> bool:
        """Whitespace then text after the eaten delimiter: pandas backtracks to the last `\n` and keeps it."""
        body = line[1:].rstrip("\r\n")
        return body[:1] != "" and body[0] in self.whitespace and body.strip(self.whitespace) != ""

    def __iter__(self) -> Iterator[str]:
        after_blank_cr = False
        for line in self.handle:
            if after_blank_cr and self.record_ended and line.startswith(self.delimiter) and not self._restored(line):
                line = line[1:]
            after_blank_cr = line.endswith("\r") and not line.endswith("\r\n") and not line[:-1].strip(self.whitespace)
            self.last = line
            self.record_ended = False
            yield line


def _rows(handle: TextIO, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Non-blank rows; a sentinel line after the end shows whether the file ended inside a quoted field."""
    source = _Lines(handle, delimiter)
    reader = csv.reader(
        itertools.chain(source, [_END]), delimiter=delimiter, quotechar='"', doublequote=True, strict=False
    )
    try:
        for row in reader:
            source.record_ended = True
            if row == [_END]:
                return
            if row and row[-1].endswith(_END_QUOTED):
                raise MalformedFile("end of file inside a quoted field", reader.line_num - 1)
            if not _blank(row, delimiter) or '"' in source.last:
                yield reader.line_num, row
    except csv.Error as exc:
        raise MalformedFile(str(exc), reader.line_num) from None


def _cells(width: int, rows: Iterator[tuple[int, list[str]]]) -> Iterator[list[str]]:
    first = next(rows, None)
    if first is None:
        return
    shift = max(0, len(first[1]) - width)  # pandas makes the extra leading fields an (unused) index
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
