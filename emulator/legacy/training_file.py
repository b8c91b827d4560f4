"""Training files: the JSONL check at upload (streaming, line by line) and reading examples back."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from emulator.core.json_reader import MAX_DEPTH, JSONRefused, load_json
from emulator.core.lines import LineChecker, LineSplitter
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
        value = load_json(raw)
    except JSONRefused as refused:
        if refused.reason == "unicode":
            return _problem(number, f"{JSONL_PREFIX} Line {number} is not valid UTF-8.")
        if refused.reason == "depth":
            return _problem(number, f"{JSONL_PREFIX} Line {number} nests more than {MAX_DEPTH} levels deep.")
        return _not_a_dictionary(number, raw)
    if not isinstance(value, dict):
        return _not_a_dictionary(number, raw)
    for key in ("prompt", "completion"):
        if key not in value:
            return _problem(number, f"{KEYS_PREFIX} Missing `{key}` key on line {number}.")
        if not isinstance(value[key], str):
            return _problem(number, f"{KEYS_PREFIX} The `{key}` value on line {number} must be a string.")
    return Example(number, value["prompt"], value["completion"])


class TrainingFileChecker(LineChecker):
    """Fed chunk by chunk during an upload; returns the first Problem, worded as the real API words it."""

    def check_line(self, number: int, raw: bytes) -> Problem | bool:
        found = parse_line(number, raw)
        return found if isinstance(found, Problem) else found is not None

    def empty(self) -> Problem | None:
        return Problem("invalid_training_file", f"{JSONL_PREFIX} The file is empty.", param="file")


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
