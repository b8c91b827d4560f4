"""Numbered lines of a byte stream (JSONL files), fed chunk by chunk; shared by both API generations' checkers."""

from __future__ import annotations

from collections.abc import Iterable, Iterator


class LineSplitter:
    """Numbered lines from a byte stream fed chunk by chunk, holding at most one partial line."""

    def __init__(self) -> None:
        self._pending = b""
        self._number = 0

    def feed(self, chunk: bytes) -> list[tuple[int, bytes]]:
        self._pending += chunk
        *complete, self._pending = self._pending.split(b"\n")
        return [self._numbered(line) for line in complete]

    def finish(self) -> list[tuple[int, bytes]]:
        rest, self._pending = self._pending, b""
        return [self._numbered(rest)] if rest else []

    def _numbered(self, line: bytes) -> tuple[int, bytes]:
        self._number += 1
        return self._number, line


def split_lines(chunks: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    splitter = LineSplitter()
    for chunk in chunks:
        yield from splitter.feed(chunk)
    yield from splitter.finish()
