"""The last four legacy checks: prompt and completion prefixes, the completion ending, the leading space."""

from __future__ import annotations

from functools import partial
from operator import itemgetter

from client.prepare import stats
from client.prepare.table import Finding, Say, Table
from client.prepare.validators import (
    COMPLETION_ENDINGS,
    GUIDE,
    SHORTER,
    append_values,
    display,
    first_absent,
    map_values,
)

MAX_PROMPT_PREFIX = 12
MIN_COMPLETION_PREFIX = 5


def common_prompt_prefix(table: Table) -> Finding:
    prefix = stats.common_prefix(table.prompts)
    if prefix == "" or stats.all_equal(table.prompts, prefix):
        return Finding("common_prefix")
    message = f"\n- All prompts start with prefix `{prefix}`"
    if len(prefix) <= MAX_PROMPT_PREFIX:
        return Finding("common_prompt_prefix", immediate=message)
    return Finding(
        "common_prompt_prefix",
        recommended_fix=partial(map_values, "prompts", itemgetter(slice(len(prefix), None))),
        immediate=message
        + (
            ". Fine-tuning doesn't require the instruction specifying the task, or a few-shot example scenario. Most "
            "of the time you should only add the input data into the prompt, and the desired output into the completion"
        ),
        recommended=f"Remove prefix `{prefix}` from all prompts",
    )


def common_completion_prefix(table: Table) -> Finding:
    prefix = stats.common_prefix(table.completions)
    if len(prefix) < MIN_COMPLETION_PREFIX or stats.all_equal(table.completions, prefix):
        return Finding("common_prefix")
    keep = " " if prefix[0] == " " else ""
    return Finding(
        "common_completion_prefix",
        recommended_fix=partial(map_values, "completions", partial(_replace_prefix, len(prefix), keep)),
        immediate=(
            f"\n- All completions start with prefix `{prefix}`. Most of the time you should only add the output data "
            "into the completion, without any prefix"
        ),
        recommended=f"Remove prefix `{prefix}` from all completions",
    )


def common_completion_suffix(table: Table) -> Finding:
    if table.task_type() in ("open-ended generation", "classification"):
        return Finding("common_suffix")
    suffix = table.common_suffix("completions")
    if stats.all_equal(table.completions, suffix):
        return Finding(
            "common_suffix",
            error=(
                f"All completions are identical: `{suffix}`\nEnsure completions are different, otherwise the model "
                f"will just repeat `{suffix}`"
            ),
        )
    suggested = first_absent(COMPLETION_ENDINGS, stats.present(table.completions, COMPLETION_ENDINGS), " [END]")
    if suffix:
        message = f"\n- All completions end with suffix `{display(suffix)}`"
        if len(suffix) > 10:
            message += SHORTER.format(display(suggested))
        if stats.repeats(table.completions, suffix):
            message += (
                f"\n  WARNING: Some of your completions contain the suffix `{suffix}` more than once. We "
                "suggest that you review your completions and add a unique ending"
            )
        return Finding("common_completion_suffix", immediate=message)
    return Finding(
        "common_completion_suffix",
        recommended_fix=partial(append_values, "completions", suggested),
        immediate=(
            "\n- Your data does not contain a common ending at the end of your completions. Having a common ending "
            "string appended to the end of the completion makes it clearer to the fine-tuned model where the "
            f"completion should end. See {GUIDE} for more detail and examples."
        ),
        recommended=f"Add a suffix ending `{display(suggested)}` to all completions",
    )


def completion_space_start(table: Table) -> Finding:
    if len(table) and stats.count_starting(table.completions, " ") == len(table):
        return Finding("completion_space_start")
    return Finding(
        "completion_space_start",
        recommended_fix=_start_with_space,
        immediate=(
            "\n- The completion should start with a whitespace character (` `). This tends to produce better results "
            f"due to the tokenization we use. See {GUIDE} for more details"
        ),
        recommended="Add a whitespace character to the beginning of the completion",
    )


def _replace_prefix(length: int, keep: str, value: str) -> str:
    return keep + value[length:]


def _space_first(value: str) -> str:
    return value if value[:1] == " " else " " + value


def _start_with_space(table: Table, say: Say) -> None:
    if stats.count_starting(table.completions, " "):
        table.map_column("completions", _space_first)
    else:
        table.map_column("completions", " ".__add__)  # none starts with a space (the usual case): all in C
