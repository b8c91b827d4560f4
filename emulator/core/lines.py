"""Numbered lines of a byte stream (JSONL files), fed chunk by chunk; shared by both API generations' checkers."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from emulator.core.problems import Problem


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


class LineChecker:
    """An upload check fed chunk by chunk: each line goes to `check_line`; the first Problem stops it; a file
    without one example is `empty()`. Subclasses say what a line is."""

    def __init__(self) -> None:
        self._lines = LineSplitter()
        self.examples = 0

    def check_line(self, number: int, raw: bytes) -> Problem | bool:
        """The line's Problem, True for an example, False for a line that is none (blank)."""
        raise NotImplementedError

    def empty(self) -> Problem | None:
        return None

    def feed(self, chunk: bytes) -> Problem | None:
        return self._check(self._lines.feed(chunk))

    def finish(self) -> Problem | None:
        problem = self._check(self._lines.finish())
        if problem is None and self.examples == 0:
            return self.empty()
        return problem

    def _check(self, lines: list[tuple[int, bytes]]) -> Problem | None:
        for number, raw in lines:
            found = self.check_line(number, raw)
            if isinstance(found, Problem):
                return found
            self.examples += found
        return None
