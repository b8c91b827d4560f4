"""Big CSV/TSV files parsed in two processes: the later rows by a forked child, from a record boundary on."""

from __future__ import annotations

import csv
import io
from typing import Any

from client.prepare import fork
from client.prepare.csvfile import Columns, Unusual, fast_columns, fast_header, fast_reader, fast_table
from client.prepare.shards import ChildGone, Remote, ShardedTable
from client.prepare.table import Table

BLOCK = 1 << 20
HEAD_BUFFER = 1 << 16
SCAN = 1 << 20  # how far past the split to look for a line end with an even number of quotes before it
# The parent's share of the bytes: more than half, as the parent also finds the split point. Measured best near
# 0.58-0.6 when the child still sent its values back; not tuned again for the sharded table.
PARENT_SHARE = 0.58


class _Head(io.RawIOBase):
    """The first `limit` bytes of a file, as a raw stream (so a text reader stops exactly there)."""

    def __init__(self, path: str, limit: int) -> None:
        super().__init__()
        self._file = open(path, "rb", buffering=0)  # noqa: SIM115 (closed with this stream)
        self._left = limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._left <= 0:
            return 0
        with memoryview(buffer) as view:
            n = self._file.readinto(view[: self._left]) or 0
        self._left -= n
        return n

    def close(self) -> None:
        self._file.close()
        super().close()


def split_point(path: str) -> int | None:
    """The offset just past the first `\\n` after the parent's share with an even count of `"` before it.

    Parity is only a guess at "outside any quoted field" (a literal `"` inside an unquoted field breaks it); the
    parent's parse proves it by ending exactly at a record boundary there, or the whole split is abandoned.
    """
    with open(path, "rb") as handle:
        size = handle.seek(0, io.SEEK_END)
        middle = int(size * PARENT_SHARE)
        handle.seek(0)
        quotes = done = 0
        while done < middle:
            block = handle.read(min(BLOCK, middle - done))
            if not block:
                return None
            quotes += block.count(b'"')
            done += len(block)
        tail = handle.read(SCAN)
    start = 0
    while (end := tail.find(b"\n", start)) != -1:
        quotes += tail.count(b'"', start, end)
        if quotes % 2 == 0:
            offset = middle + end + 1
            return offset if offset < size else None
        start = end + 1
    return None


def read_sharded(path: str, delimiter: str) -> ShardedTable | None:
    """The fast path's table with its later rows kept by a forked child; None when anything is unusual or fails.

    None means "read it the ordinary way": that path then reproduces every pandas quirk and every error.
    Only for files without a lone `\r` (read_delimited checks), as for the single-process fast path.
    """
    if not fork.available():
        return None
    offset = split_point(path)
    if offset is None:
        return None
    remote: Remote | None = None
    try:
        head = io.BufferedReader(_Head(path, offset), buffer_size=HEAD_BUFFER)
        with io.TextIOWrapper(head, encoding="utf-8-sig", newline="") as handle:
            reader = fast_reader(handle, delimiter)
            columns, p, c = fast_header(reader)
            width = len(columns)

            def rest() -> Table:
                return fast_table(columns, second_half(path, offset, delimiter, width, p, c))

            remote = Remote(rest)
            local = fast_table(columns, fast_columns(reader, width, p, c))
        rows = remote.receive()
    except (Unusual, csv.Error, ValueError, OSError, ChildGone):  # a UnicodeDecodeError too: the exact path words it
        if remote is not None:
            remote.close()
        return None
    table = ShardedTable(list(columns), local, remote, rows, rest)
    if not len(local) or not rows:
        table.materialize()  # an empty part: its common prefix and suffix would not combine
    return table


def read_parallel(path: str, delimiter: str) -> Table | None:
    """As read_sharded, with the child's rows gathered here: a plain Table (for library callers)."""
    table = read_sharded(path, delimiter)
    if isinstance(table, ShardedTable):
        table.materialize()
    return table


def second_half(path: str, offset: int, delimiter: str, width: int, p: int | None, c: int | None) -> Columns:
    """The prompt and completion values of the rows from byte `offset` (a record boundary) to the end."""
    with open(path, "rb") as raw:
        raw.seek(offset)
        with io.TextIOWrapper(raw, encoding="utf-8", newline="") as handle:
            return fast_columns(fast_reader(handle, delimiter), width, p, c)
