"""Training files: the JSONL check at upload (streaming, line by line) and reading examples back."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from emulator.core.problems import Problem

JSONL_PREFIX = "Expected file to have JSONL format, where every line is a valid JSON dictionary."
KEYS_PREFIX = "Expected file to have JSONL format with prompt/completion keys."


@dataclass(frozen=True)
class Example:
    line: int
    prompt: str
    completion: str


def _hint(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace").strip()
    return f"{text[:3]}..."


def _problem(number: int, message: str) -> Problem:
    return Problem("invalid_training_file", message, param="file", line=number)


def _not_a_dictionary(number: int, raw: bytes) -> Problem:
    hint = f'(HINT: line starts with: "{_hint(raw)}")'
    return _problem(number, f"{JSONL_PREFIX} Line {number} is not a dictionary {hint}.")


def parse_line(number: int, raw: bytes) -> Example | Problem | None:
    """One line of a fine-tune file: None for a blank line, its Example, or the Problem with it."""
    if not raw.strip():
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return _problem(number, f"{JSONL_PREFIX} Line {number} is not valid UTF-8.")
    try:
        value = json.loads(text)
    except ValueError:
        return _not_a_dictionary(number, raw)
    if not isinstance(value, dict):
        return _not_a_dictionary(number, raw)
    for key in ("prompt", "completion"):
        if key not in value:
            return _problem(number, f"{KEYS_PREFIX} Missing `{key}` key on line {number}.")
        if not isinstance(value[key], str):
            return _problem(number, f"{KEYS_PREFIX} The `{key}` value on line {number} must be a string.")
    return Example(number, value["prompt"], value["completion"])


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


class TrainingFileChecker:
    """Fed chunk by chunk during an upload; returns the first Problem, worded as the real API words it."""

    def __init__(self) -> None:
        self._lines = LineSplitter()
        self.examples = 0

    def feed(self, chunk: bytes) -> Problem | None:
        return self._check(self._lines.feed(chunk))

    def finish(self) -> Problem | None:
        problem = self._check(self._lines.finish())
        if problem is None and self.examples == 0:
            return Problem("invalid_training_file", f"{JSONL_PREFIX} The file is empty.", param="file")
        return problem

    def _check(self, lines: list[tuple[int, bytes]]) -> Problem | None:
        for number, line in lines:
            found = parse_line(number, line)
            if isinstance(found, Problem):
                return found
            if found is not None:
                self.examples += 1
        return None


def read_examples(chunks: Iterable[bytes]) -> Iterator[Example]:
    """Examples of a stored (already validated) fine-tune file, in file order.

    Each chunk's lines are parsed as one JSON array (one C call instead of one per line); a chunk where that
    does not give a prompt/completion dictionary per line is parsed line by line, exactly as the upload check.
    """
    splitter = LineSplitter()
    for chunk in chunks:
        yield from _parse_lines(splitter.feed(chunk))
    yield from _parse_lines(splitter.finish())


def _parse_lines(lines: list[tuple[int, bytes]]) -> list[Example]:
    numbered = [(number, line) for number, line in lines if line.strip()]
    try:
        values = json.loads(b"[" + b",".join(line for _, line in numbered) + b"]")
    except ValueError:
        values = None
    if isinstance(values, list) and len(values) == len(numbered) and all(map(_is_example, values)):
        return [Example(number, v["prompt"], v["completion"]) for (number, _), v in zip(numbered, values, strict=True)]
    parsed = (parse_line(number, line) for number, line in numbered)
    return [example for example in parsed if isinstance(example, Example)]


def _is_example(value: object) -> bool:
    return isinstance(value, dict) and isinstance(value.get("prompt"), str) and isinstance(value.get("completion"), str)
