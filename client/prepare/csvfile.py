"""CSV and TSV as pandas `read_csv(sep, dtype=str).fillna("")` reads them: NA words, blank lines, implicit index."""

from __future__ import annotations

import csv
import itertools
import re
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator
from operator import itemgetter
from typing import TextIO

from client.prepare.table import Column, Table, pick, source_column

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


class _Unusual(Exception):
    """The fast path met a row it does not handle (short, blank-looking or overlong): use the exact path."""


def _fast(path: str, delimiter: str, chunk: int = 8192) -> Table:
    """Files without `\r` whose rows all have the header's width: whole chunks through C-level comprehensions."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        lines = itertools.chain(handle, [_END])
        reader = csv.reader(lines, delimiter=delimiter, quotechar='"', doublequote=True, strict=False)
        header = next(reader, None)
        if header is None or not header or header == [_END]:
            raise _Unusual
        columns = column_names(list(header))
        width = len(columns)
        if width < 2:
            raise _Unusual  # a one-column file: whitespace-only rows are blank lines to pandas
        table = pick(columns, [])
        p, c = source_column(columns, "prompt"), source_column(columns, "completion")
        na = NA_VALUES
        while rows := list(itertools.islice(reader, chunk)):
            if rows[-1] == [_END]:
                rows.pop()
                if not rows:
                    break
            elif rows[-1] and rows[-1][-1].endswith(_END_QUOTED):
                raise _Unusual  # the file ends inside a quoted field: the exact path words the error
            if min(map(len, rows)) != width or max(map(len, rows)) != width:
                raise _Unusual
            if p is not None:
                table.prompts += ["" if v in na else v for v in map(itemgetter(p), rows)]
            if c is not None:
                table.completions += ["" if v in na else v for v in map(itemgetter(c), rows)]
        n = max(len(table.prompts), len(table.completions))
        table.prompts = table.prompts or [""] * n
        table.completions = table.completions or [""] * n
        return table


_LONE_CR = re.compile(rb"\r(?!\n)")


def _has_lone_carriage_return(path: str) -> bool:
    """A `\r` not followed by `\n` anywhere (pandas' tokenizer treats those lines specially)."""
    with open(path, "rb") as handle:
        pending = b""
        while block := handle.read(1 << 20):
            data = pending + block
            pending = b"\r" if data.endswith(b"\r") else b""
            if _LONE_CR.search(data[:-1] if pending else data):
                return True
        return pending == b"\r"


def read_delimited(path: str, delimiter: str) -> Table:
    """Rows of a CSV (`,`) or TSV (`\t`) file; raises MalformedFile (or UnicodeDecodeError)."""
    csv.field_size_limit(sys.maxsize)
    if not _has_lone_carriage_return(path):
        try:
            return _fast(path, delimiter)
        except (_Unusual, csv.Error):
            pass
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = _rows(handle, delimiter)
        header = next(rows, None)
        if header is None:
            raise MalformedFile("No columns to parse from file")
        columns = column_names(list(header[1]))
        return pick(columns, _cells(len(columns), rows))
