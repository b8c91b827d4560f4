"""Training files of the modern API: each line's format (chat, preference, reinforcement, prompt/completion),
the job-time checks that fail a job with the real codes, and the upload check that accepts every format."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from emulator.core.json_reader import JSONRefused, load_json
from emulator.core.lines import LineChecker, split_lines
from emulator.core.problems import Problem
from emulator.store import ChatExample

MIN_EXAMPLES = 10
ROLES = ("system", "developer", "user", "assistant", "tool", "function")
# What each line format is called in the job error (only "fine-tune-chat" is captured; the others are ours).
FORMAT_NAMES = {
    "chat": "fine-tune-chat",
    "preference": "fine-tune-preference",
    "reinforcement": "fine-tune-reinforcement",
    "completion": "fine-tune-completion",
}
METHOD_FORMATS = {"supervised": ("chat", "completion"), "dpo": ("preference",), "reinforcement": ("reinforcement",)}
METHOD_FOR_FORMAT = {
    "chat": "supervised",
    "completion": "supervised",
    "preference": "dpo",
    "reinforcement": "reinforcement",
}
INVALID_FILE = "The job failed due to an invalid training file."
UNEXPECTED_FORMAT = f"{INVALID_FILE} Unexpected file format, expected either prompt/completion pairs or chat messages."


@dataclass(frozen=True)
class Line:
    number: int
    format: str
    value: dict[str, Any]


def _messages_format(messages: Any) -> str | None:
    if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
        return None
    return "chat" if messages[-1].get("role") == "assistant" else "reinforcement"


def line_format(value: Any) -> str | None:
    """Which training format one parsed line has, or None when it fits none."""
    if not isinstance(value, dict):
        return None
    if "messages" in value:
        return _messages_format(value["messages"])
    if isinstance(value.get("input"), dict) and "preferred_output" in value and "non_preferred_output" in value:
        return "preference"
    if isinstance(value.get("prompt"), str) and isinstance(value.get("completion"), str):
        return "completion"
    return None


def parse_line(raw: bytes) -> Any:
    """The line's JSON value, or None when it is not JSON."""
    try:
        return load_json(raw)
    except JSONRefused:
        return None


def read_lines(chunks: Iterable[bytes]) -> list[Line] | Problem:
    """Every non-blank line with its format; the first line that fits no format is the Problem."""
    lines: list[Line] = []
    for number, raw in split_lines(chunks):
        if not raw.strip():
            continue
        value = parse_line(raw)
        found = line_format(value)
        if found is None:
            return Problem("invalid_training_file", UNEXPECTED_FORMAT, line=number)
        lines.append(Line(number, found, value))
    return lines


def _message_problem(message: dict[str, Any]) -> str | None:
    role = message.get("role")
    if role not in ROLES:
        return f"unrecognized role {role!r}"
    content = message.get("content")
    has_call = bool(message.get("tool_calls") or message.get("function_call"))
    if content is None and not (role == "assistant" and has_call):
        return "missing content"
    if content is not None and not isinstance(content, str | list):
        return "content must be a string or a list of parts"
    if "weight" in message and message["weight"] not in (0, 1):
        return "weight must be 0 or 1"
    return None


def _line_problem(line: Line) -> str | None:
    if line.format == "chat":
        messages = line.value["messages"]
    elif line.format == "preference":
        messages = [*line.value["input"].get("messages", []), *_outputs(line.value)]
        if len(_outputs(line.value)) != 2:
            return "preferred_output and non_preferred_output must each hold one assistant message"
    else:
        return None
    for index, message in enumerate(messages):
        problem = _message_problem(message) if isinstance(message, dict) else "message must be an object"
        if problem:
            return f"message {index}: {problem}"
    return None


def _outputs(value: dict[str, Any]) -> list[Any]:
    return [
        output[0]
        for output in (value["preferred_output"], value["non_preferred_output"])
        if isinstance(output, list) and len(output) == 1
    ]


def check_lines(
    file_id: str, param: str, lines: list[Line], method: str, *, minimum: int = MIN_EXAMPLES
) -> Problem | None:
    """The job-time problem with a parsed file for a method: format, content, then the example count."""
    for line in lines:
        if line.format not in METHOD_FORMATS[method]:
            name = FORMAT_NAMES[line.format]
            return Problem(
                "invalid_training_file",
                f"{INVALID_FILE} Invalid file format. Input file {file_id} is in the {name} format, but the "
                f"specified fine-tuning job is not using '{METHOD_FOR_FORMAT[line.format]}' as the training method "
                f"(provided method={method}). ",
                param=param,
                line=line.number,
            )
        found = _line_problem(line)
        if found:
            message = f"{INVALID_FILE} Invalid file format. Line {line.number}, {found}."
            return Problem("invalid_training_file", message, param=param, line=line.number)
    if len(lines) < minimum:
        kind = "Training" if param == "training_file" else "Validation"
        message = f"{kind} file has {len(lines)} example(s), but must have at least {minimum} examples"
        return Problem("invalid_n_examples", message, param=param)
    return None


def chat_example(line: Line) -> ChatExample:
    """What a model learns from one line (see ChatExample): the turns before the reply, the reply, the tools."""
    value = line.value
    if line.format == "chat":
        messages = value["messages"]
        return ChatExample(messages[:-1], messages[-1], value.get("tools") or value.get("functions"))
    if line.format == "preference":
        return ChatExample(
            value["input"].get("messages", []), value["preferred_output"][0], value["input"].get("tools")
        )
    if line.format == "completion":
        return ChatExample(
            [{"role": "user", "content": value["prompt"]}], {"role": "assistant", "content": value["completion"]}
        )
    # Reinforcement lines have no reply: the grader's reference (any other key) stands in for one (ours).
    extra = {k: v for k, v in value.items() if k not in ("messages", "tools")}
    reference = next((v for v in extra.values() if isinstance(v, str)), "")
    return ChatExample(value["messages"], {"role": "assistant", "content": reference}, value.get("tools"))


class AnyFormatChecker(LineChecker):
    """The upload check for purpose fine-tune: chat, preference and reinforcement lines are accepted; any other
    line gets the prompt/completion checker's verdict (and its 400 texts), so legacy uploads read as before."""

    def __init__(self, legacy_line: Callable[[int, bytes], object], empty: Callable[[], Problem | None]) -> None:
        super().__init__()
        self._legacy_line = legacy_line
        self._empty = empty

    def empty(self) -> Problem | None:
        return self._empty()

    def check_line(self, number: int, raw: bytes) -> Problem | bool:
        if not raw.strip():
            return False
        if line_format(parse_line(raw)) is not None:  # a prompt/completion line is one the legacy checker takes too
            return True
        found = self._legacy_line(number, raw)
        return found if isinstance(found, Problem) else True
