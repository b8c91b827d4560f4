"""Creating a fine-tuning job: read its files, find their problem (reported when validation ends), count the
tokens it will train on, plan it, and keep the examples its model will answer from."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import tiktoken

from emulator.core.blobs import BlobStore
from emulator.core.catalogue import ModernModel
from emulator.core.problems import Problem
from emulator.core.tokens import encoding_named
from emulator.store import ChatExample
from emulator.v1.plan import JobPlan, make_plan
from emulator.v1.training_file import INVALID_FILE, Line, chat_example, check_lines, read_lines


@dataclass(frozen=True)
class Prepared:
    plan: JobPlan
    examples: list[ChatExample]


def _error(problem: Problem, param: str) -> dict[str, Any]:
    return {"code": problem.code, "message": problem.message, "param": problem.param or param}


def _check_file(blobs: BlobStore, file_id: str, param: str, method: str) -> list[Line] | dict[str, Any]:
    try:
        lines = read_lines(blobs.read_chunks(file_id))
    except OSError:  # gone before a restarted server prepared the job (ours: the real API never said)
        return _error(Problem("invalid_training_file", f"{INVALID_FILE} File {file_id} could not be read."), param)
    if isinstance(lines, Problem):
        return _error(lines, param)
    problem = check_lines(file_id, param, lines, method, minimum=10 if param == "training_file" else 1)
    return _error(problem, param) if problem else lines


def _text_tokens(encoding: tiktoken.Encoding, value: Any) -> int:
    if isinstance(value, str):
        return len(encoding.encode_ordinary(value))
    if isinstance(value, list):
        return sum(_text_tokens(encoding, part.get("text", "")) for part in value if isinstance(part, dict))
    return len(encoding.encode_ordinary(json.dumps(value))) if value is not None else 0


def message_tokens(encoding: tiktoken.Encoding, messages: list[dict[str, Any]]) -> int:
    """The cookbook's count: 3 per message, its values' tokens, 1 more for a name, and 3 to prime the reply."""
    total = 3
    for message in messages:
        total += 3
        for key, value in message.items():
            if key == "weight":
                continue
            total += _text_tokens(encoding, value) + (1 if key == "name" else 0)
    return total


def line_tokens(encoding: tiktoken.Encoding, line: Line) -> int:
    value = line.value
    if line.format == "completion":
        return len(encoding.encode_ordinary(value["prompt"])) + len(encoding.encode_ordinary(value["completion"]))
    if line.format == "preference":
        messages = [*value["input"].get("messages", []), *value["preferred_output"], *value["non_preferred_output"]]
        return message_tokens(encoding, messages)
    return message_tokens(encoding, value["messages"])


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
    encoding = encoding_named(base.encoding)
    plan = make_plan(
        method=method,
        example_tokens=[line_tokens(encoding, line) for line in lines],
        token_limit=base.example_token_limit or 65_536,
        has_validation=validation_file is not None,
        speed=speed,
        failure=failure,
    )
    examples = [] if failure else [chat_example(line) for line in lines]
    return Prepared(plan, examples)
