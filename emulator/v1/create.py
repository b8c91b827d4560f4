"""Creating a fine-tuning job: read its files, find their problem (reported when validation ends), count the
tokens it will train on, plan it, and keep the examples its model will answer from."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import tiktoken

from emulator.core.blobs import BlobStore
from emulator.core.catalogue import ModernModel
from emulator.core.counting import start_counting
from emulator.core.problems import Problem
from emulator.store import ChatExample
from emulator.v1.plan import JobPlan, make_plan
from emulator.v1.training_file import INVALID_FILE, Line, chat_example, check_lines, read_lines


@dataclass(frozen=True)
class Prepared:
    plan: JobPlan
    examples: list[ChatExample]


def _error(problem: Problem, param: str) -> dict[str, Any]:
    return {"code": problem.code, "message": problem.message, "param": problem.param or param}


def unreadable_file(file_id: str, param: str) -> dict[str, Any]:
    """The job error of a file gone before a restarted server prepared the job (ours: the real API never said)."""
    return _error(Problem("invalid_training_file", f"{INVALID_FILE} File {file_id} could not be read."), param)


def _check_file(blobs: BlobStore, file_id: str, param: str, method: str) -> list[Line] | dict[str, Any]:
    try:
        lines = read_lines(blobs.read_chunks(file_id))
    except OSError:
        return unreadable_file(file_id, param)
    if isinstance(lines, Problem):
        return _error(lines, param)
    problem = check_lines(file_id, param, lines, method, minimum=10 if param == "training_file" else 1)
    return _error(problem, param) if problem else lines


def _texts(value: Any, into: list[str]) -> None:
    """The texts whose tokens a message value counts: a string, each part's text, else the value as JSON."""
    if isinstance(value, str):
        into.append(value)
    elif isinstance(value, list):
        for part in value:
            if isinstance(part, dict):
                _texts(part.get("text", ""), into)
    elif value is not None:
        into.append(json.dumps(value))


def message_texts(messages: list[dict[str, Any]]) -> tuple[int, list[str]]:
    """The cookbook's count as (fixed tokens, texts to count): 3 per message, its values' tokens, 1 more for a
    name, and 3 to prime the reply."""
    fixed, texts = 3, list[str]()
    for message in messages:
        fixed += 3
        for key, value in message.items():
            if key == "weight":
                continue
            _texts(value, texts)
            fixed += 1 if key == "name" else 0
    return fixed, texts


def message_tokens(encoding: tiktoken.Encoding, messages: list[dict[str, Any]]) -> int:
    fixed, texts = message_texts(messages)
    return fixed + sum(len(encoding.encode_ordinary(text)) for text in texts)


def line_texts(line: Line) -> tuple[int, list[str]]:
    """What one line's tokens are made of: (fixed tokens, texts to count)."""
    value = line.value
    if line.format == "completion":
        return 0, [value["prompt"], value["completion"]]
    if line.format == "preference":
        return message_texts(
            [*value["input"].get("messages", []), *value["preferred_output"], *value["non_preferred_output"]]
        )
    return message_texts(value["messages"])


def example_tokens(made: list[tuple[int, list[str]]], counts: list[int]) -> list[int]:
    """Each line's tokens: its fixed ones and its texts' counts (given in line order)."""
    tokens, position = [], 0
    for fixed, texts in made:
        end = position + len(texts)
        tokens.append(fixed + sum(counts[position:end]))
        position = end
    return tokens


def prepare_job(
    blobs: BlobStore,
    speed: float | None,
    base: ModernModel,
    method: dict[str, Any],
    training_file: str,
    validation_file: str | None,
) -> Prepared:
    """Read and check the job's files, count the tokens it trains on, plan it; the examples its model learns."""
    method_type = method["type"]
    checked = _check_file(blobs, training_file, "training_file", method_type)
    failure = checked if isinstance(checked, dict) else None
    lines = checked if isinstance(checked, list) else []
    if failure is None and validation_file is not None:
        validation = _check_file(blobs, validation_file, "validation_file", method_type)
        failure = validation if isinstance(validation, dict) else None
    made = [line_texts(line) for line in lines]
    # A big file's texts are counted by another process while its conversations are made here.
    counting = start_counting(base.encoding, [text for _, texts in made for text in texts])
    examples = [] if failure else [chat_example(line) for line in lines]
    plan = make_plan(
        method=method,
        example_tokens=example_tokens(made, counting.result()),
        token_limit=base.example_token_limit or 65_536,
        has_validation=validation_file is not None,
        speed=speed,
        failure=failure,
    )
    return Prepared(plan, examples)
