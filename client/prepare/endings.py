"""The last four legacy checks: prompt and completion prefixes, the completion ending, the leading space."""

from __future__ import annotations

import itertools

from client.prepare.table import Finding, Say, Table
from client.prepare.validators import COMPLETION_ENDINGS, GUIDE, SHORTER, _first_absent, _repeats
from client.prepare.xfix import common_prefix, common_suffix, display, task_type

MAX_PROMPT_PREFIX = 12
MIN_COMPLETION_PREFIX = 5


def common_prompt_prefix(table: Table) -> Finding:
    prefix = common_prefix(table.prompts)
    if prefix == "" or all(p == prefix for p in table.prompts):
        return Finding("common_prefix")
    message = f"\n- All prompts start with prefix `{prefix}`"
    if len(prefix) <= MAX_PROMPT_PREFIX:
        return Finding("common_prompt_prefix", immediate=message)

    def remove(t: Table, say: Say) -> None:
        t.map_column("prompts", lambda p: p[len(prefix) :])

    return Finding(
        "common_prompt_prefix",
        recommended_fix=remove,
        immediate=message
        + (
            ". Fine-tuning doesn't require the instruction specifying the task, or a few-shot example scenario. Most "
            "of the time you should only add the input data into the prompt, and the desired output into the completion"
        ),
        recommended=f"Remove prefix `{prefix}` from all prompts",
    )


def common_completion_prefix(table: Table) -> Finding:
    prefix = common_prefix(table.completions)
    if len(prefix) < MIN_COMPLETION_PREFIX or all(c == prefix for c in table.completions):
        return Finding("common_prefix")
    keep = " " if prefix[0] == " " else ""

    def remove(t: Table, say: Say) -> None:
        t.map_column("completions", lambda c: keep + c[len(prefix) :])

    return Finding(
        "common_completion_prefix",
        recommended_fix=remove,
        immediate=(
            f"\n- All completions start with prefix `{prefix}`. Most of the time you should only add the output data "
            "into the completion, without any prefix"
        ),
        recommended=f"Remove prefix `{prefix}` from all completions",
    )


def common_completion_suffix(table: Table) -> Finding:
    completions = table.completions
    if task_type(table.prompts, completions) in ("open-ended generation", "classification"):
        return Finding("common_suffix")
    suffix = common_suffix(completions)
    if all(c == suffix for c in completions):
        return Finding(
            "common_suffix",
            error=(
                f"All completions are identical: `{suffix}`\nEnsure completions are different, otherwise the model "
                f"will just repeat `{suffix}`"
            ),
        )
    suggested = _first_absent(COMPLETION_ENDINGS, completions, " [END]")
    if suffix:
        message = f"\n- All completions end with suffix `{display(suffix)}`"
        if len(suffix) > 10:
            message += SHORTER.format(display(suggested))
        if _repeats(completions, suffix):
            message += (
                f"\n  WARNING: Some of your completions contain the suffix `{suffix}` more than once. We "
                "suggest that you review your completions and add a unique ending"
            )
        return Finding("common_completion_suffix", immediate=message)

    def add(t: Table, say: Say) -> None:
        t.append_to("completions", suggested)

    return Finding(
        "common_completion_suffix",
        recommended_fix=add,
        immediate=(
            "\n- Your data does not contain a common ending at the end of your completions. Having a common ending "
            "string appended to the end of the completion makes it clearer to the fine-tuned model where the "
            f"completion should end. See {GUIDE} for more detail and examples."
        ),
        recommended=f"Add a suffix ending `{display(suggested)}` to all completions",
    )


def completion_space_start(table: Table) -> Finding:
    completions = table.completions
    if completions and all(c[:1] == " " for c in completions):
        return Finding("completion_space_start")

    def add(t: Table, say: Say) -> None:
        if any(map(str.startswith, t.completions, itertools.repeat(" "))):
            t.map_column("completions", lambda c: c if c[:1] == " " else " " + c)
        else:
            t.map_column("completions", " ".__add__)  # none starts with a space (the usual case): all in C

    return Finding(
        "completion_space_start",
        recommended_fix=add,
        immediate=(
            "\n- The completion should start with a whitespace character (` `). This tends to produce better results "
            f"due to the tokenization we use. See {GUIDE} for more details"
        ),
        recommended="Add a whitespace character to the beginning of the completion",
    )
