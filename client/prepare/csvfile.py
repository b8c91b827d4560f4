"""CSV and TSV as pandas `read_csv(sep, dtype=str).fillna("")` reads them: NA words, blank lines, implicit index."""

from __future__ import annotations

import csv
import itertools
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


class Unusual(Exception):
    """The fast path met a row it does not handle (short, blank-looking or overlong): use the exact path."""


def _fast(path: str, delimiter: str, chunk: int = 8192) -> Table:
    """Files without `\r` whose rows all have the header's width: whole chunks through C-level comprehensions."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = _fast_reader(handle, delimiter)
        columns, p, c = _fast_header(reader)
        return _fast_table(columns, _fast_columns(reader, len(columns), p, c, chunk))


def _fast_reader(lines: Iterable[str], delimiter: str) -> Iterator[list[str]]:
    """The csv reader the fast path uses, over `lines` then the `_END` sentinel line."""
    return csv.reader(
        itertools.chain(lines, [_END]), delimiter=delimiter, quotechar='"', doublequote=True, strict=False
    )


def _fast_header(reader: Iterator[list[str]]) -> tuple[list[Column], int | None, int | None]:
    """The column names and the positions of the would-be prompt and completion columns."""
    header = next(reader, None)
    if header is None or not header or header == [_END]:
        raise Unusual
    columns = column_names(list(header))
    if len(columns) < 2:
        raise Unusual  # a one-column file: whitespace-only rows are blank lines to pandas
    return columns, source_column(columns, "prompt"), source_column(columns, "completion")


class _Parsed:
    """The prompt and completion values read so far ([] for a missing column) and their longest lengths."""

    def __init__(self) -> None:
        self.prompts: list[str] = []
        self.completions: list[str] = []
        self.longest = [0, 0]


def _fast_columns(reader: Iterator[list[str]], width: int, p: int | None, c: int | None, chunk: int = 8192) -> _Parsed:
    """The prompt and completion values of every row up to the `_END` sentinel.

    The longest lengths are taken chunk by chunk while the strings are still in cache (the long-example check
    would otherwise make one more pass over every string).
    """
    out = _Parsed()
    na = NA_VALUES
    ended = False
    while rows := list(itertools.islice(reader, chunk)):
        if rows[-1] == [_END]:
            ended = True
            rows.pop()
            if not rows:
                break
        elif rows[-1] and rows[-1][-1].endswith(_END_QUOTED):
            raise Unusual  # the file ends inside a quoted field: the exact path words the error
        if list(map(len, rows)).count(width) != len(rows):
            raise Unusual
        if p is not None:
            values = ["" if v in na else v for v in map(itemgetter(p), rows)]
            out.longest[0] = max(out.longest[0], max(map(len, values)))
            out.prompts += values
        if c is not None:
            values = ["" if v in na else v for v in map(itemgetter(c), rows)]
            out.longest[1] = max(out.longest[1], max(map(len, values)))
            out.completions += values
    if not ended:
        raise Unusual  # the sentinel was swallowed (by a header with an open quote): not a clean record end
    return out


def _fast_table(columns: list[Column], parsed: _Parsed) -> Table:
    n = max(len(parsed.prompts), len(parsed.completions))
    table = Table(columns, parsed.prompts or [""] * n, parsed.completions or [""] * n)
    table.remember_longest(parsed.longest[0], parsed.longest[1])
    return table


def _has_lone_carriage_return(path: str) -> bool:
    """A `\r` not followed by `\n` anywhere (pandas' tokenizer treats those lines specially).

    Per 1 MiB block, two memchr-speed counts: every `\r` must start a `\r\n`, except a last `\r` whose `\n` would
    begin the next block. Blocks without any `\r` (most files) cost one count.
    """
    buffer = bytearray(1 << 20)
    pending = False  # the previous block ended with `\r`: the next byte decides
    with open(path, "rb") as handle:
        while n := handle.readinto(buffer):
            if pending and buffer[0] != 0x0A:
                return True
            returns = buffer.count(b"\r", 0, n)
            pending = returns > 0 and buffer[n - 1] == 0x0D
            if returns and returns - pending != buffer.count(b"\r\n", 0, n):
                return True
    return pending


def read_delimited(path: str, delimiter: str) -> Table:
    """Rows of a CSV (`,`) or TSV (`\t`) file; raises MalformedFile (or UnicodeDecodeError)."""
    csv.field_size_limit(sys.maxsize)
    if not _has_lone_carriage_return(path):
        try:
            return _fast(path, delimiter)
        except (Unusual, csv.Error):
            pass
    return _exact(path, delimiter)


def _exact(path: str, delimiter: str) -> Table:
    """Row by row, with every pandas quirk and error the fast path leaves to it."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = _rows(handle, delimiter)
        header = next(rows, None)
        if header is None:
            raise MalformedFile("No columns to parse from file")
        columns = column_names(list(header[1]))
        return pick(columns, _cells(len(columns), rows))
