"""The legacy tool's 15 checks, in order, with its exact wording; each returns a Finding or None."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from client.prepare import stats
from client.prepare.table import FIELDS, Finding, Say, Table, source_column

GUIDE = "https://platform.openai.com/docs/guides/fine-tuning/preparing-your-dataset"
MIN_EXAMPLES = 100
MAX_CHARACTERS = 10000
PROMPT_SEPARATORS = (" ->", "\n\n###\n\n", "\n\n===\n\n", "\n\n---\n\n", "\n\n===>\n\n", "\n\n--->\n\n")
COMPLETION_ENDINGS = ("\n", ".", " END", "***", "+++", "&&&", "$$$", "@@@", "%%%")
SHORTER = ". This suffix seems very long. Consider replacing with a shorter suffix, such as `{}`"
Validator = Callable[[Table], Finding | None]


def display(text: str) -> str:
    """Newlines shown as the two characters `\\n`, as the legacy messages do."""
    return text.replace("\n", "\\n")


def num_examples(table: Table) -> Finding:
    hint = (
        ""
        if len(table) >= MIN_EXAMPLES
        else (
            ". In general, we recommend having at least a few hundred examples. We've found that performance tends "
            "to linearly increase for every doubling of the number of examples"
        )
    )
    return Finding("num_examples", immediate=f"\n- Your file contains {len(table)} prompt-completion pairs{hint}")


def necessary_column(name: str) -> Validator:
    def validate(table: Table) -> Finding:
        if name in table.columns:
            return Finding("necessary_column")
        index = source_column(table.columns, name)
        if index is None:
            error = (
                f"`{name}` column/key is missing. Please make sure you name your columns/keys appropriately, then retry"
            )
            return Finding("necessary_column", error=error)

        def rename(t: Table, say: Say) -> None:
            t.columns[index] = name

        return Finding(
            "necessary_column",
            immediate=f"\n- The `{name}` column/key should be lowercase",
            necessary=f"Lower case column name to `{name}`",
            necessary_fix=rename,
        )

    return validate


def additional_column(table: Table) -> Finding:
    if len(table.columns) <= 2:
        return Finding("additional_column")
    extra = [c for c in table.columns if c not in FIELDS]
    warnings = "".join(
        f"\n  WARNING: Some of the additional columns/keys contain `{c}` in their name. These will be ignored, and "
        f"the column/key `{c}` will be used instead. This could also result from a duplicate column/key in the "
        "provided file."
        for c in extra
    )

    def drop(t: Table, say: Say) -> None:
        t.columns = list(FIELDS)

    return Finding(
        "additional_column",
        immediate=f"\n- The input file should contain exactly two columns/keys per row. "
        f"Additional columns/keys present are: {extra}{warnings}",
        necessary=f"Remove additional columns/keys: {extra}",
        necessary_fix=drop,
    )


def empty_completion(table: Table) -> Finding:
    rows = stats.empty_positions(table.completions)
    if not rows:
        return Finding("empty_completion")

    def drop(t: Table, say: Say) -> None:
        t.keep(i for i, c in enumerate(t.completions) if c != "")

    return Finding(
        "empty_completion",
        rows=tuple(rows),
        necessary_fix=drop,
        immediate=f"\n- `completion` column/key should not contain empty strings. These are rows: {rows}",
        necessary=f"Remove {len(rows)} rows with empty completions",
    )


def format_inferrer(table: Table) -> Finding:
    if table.task_type() != "classification":
        return Finding("num_examples")
    return Finding(
        "num_examples",
        immediate=(
            "\n- Based on your data it seems like you're trying to fine-tune a model for classification"
            "\n- For classification, we recommend you try one of the faster and cheaper models, such as `ada`"
            "\n- For classification, you can estimate the expected model performance by keeping a held out dataset, "
            "which is not used for training"
        ),
    )


def duplicated_rows(table: Table) -> Finding:
    rows = stats.duplicate_positions(table.prompts, table.completions)
    if not rows:
        return Finding("duplicated_rows")

    def drop(t: Table, say: Say) -> None:
        gone = set(stats.duplicate_positions(t.prompts, t.completions))
        t.keep(i for i in range(len(t)) if i not in gone)

    return Finding(
        "duplicated_rows",
        rows=tuple(rows),
        recommended_fix=drop,
        immediate=f"\n- There are {len(rows)} duplicated prompt-completion sets. These are rows: {rows}",
        recommended=f"Remove {len(rows)} duplicate rows",
    )


def long_positions(table: Table) -> list[int]:
    """Rows longer than MAX_CHARACTERS (none to look for when the longest prompt and completion are not)."""
    if not len(table) or sum(table.longest()) <= MAX_CHARACTERS:
        return []
    return stats.long_positions(table.prompts, table.completions, MAX_CHARACTERS)


def long_examples(table: Table) -> Finding:
    if table.task_type() == "open-ended generation":
        return Finding("long_examples")
    rows = long_positions(table)
    if not rows:
        return Finding("long_examples")

    def drop(t: Table, say: Say) -> None:
        now = long_positions(t)
        if now != rows:
            say(
                "The indices of the long examples has changed as a result of a previously applied recommendation.\n"
                f"The {len(now)} long examples to be dropped are now at the following indices: {now}\n"
            )
        gone = set(now)
        t.keep(i for i in range(len(t)) if i not in gone)

    return Finding(
        "long_examples",
        rows=tuple(rows),
        recommended_fix=drop,
        immediate=f"\n- There are {len(rows)} examples that are very long. These are rows: {rows}\n"
        "For conditional generation, and for classification the examples shouldn't be longer than 2048 tokens.",
        recommended=f"Remove {len(rows)} long examples",
    )


def lower_case(column: str) -> Validator:
    def validate(table: Table) -> Finding | None:
        if not stats.mostly_upper(table.values(f"{column}s")):
            return None
        return Finding(
            "lower_case",
            recommended_fix=partial(map_values, f"{column}s", str.lower),
            immediate=(
                f"\n- More than a third of your `{column}` column/key is uppercase. Uppercase {column}s tends to "
                "perform worse than a mixture of case encountered in normal language. We recommend to lower case "
                f"the data if that makes sense in your domain. See {GUIDE} for more details"
            ),
            recommended=f"Lowercase all your data in column/key `{column}`",
        )

    return validate


def first_absent(options: tuple[str, ...], present: set[str], fallback: str) -> str:
    return next((option for option in options if option not in present), fallback)


def common_prompt_suffix(table: Table) -> Finding:
    present = stats.present(table.prompts, ("\n", *PROMPT_SEPARATORS))
    options = PROMPT_SEPARATORS[1:] if "\n" in present else PROMPT_SEPARATORS
    suggested = first_absent(options, present, "\n\n### =>\n\n")
    if table.task_type() == "open-ended generation":
        return Finding("common_suffix")
    suffix = table.common_suffix("prompts")
    if stats.all_equal(table.prompts, suffix):
        return Finding(
            "common_suffix",
            error=(
                f"All prompts are identical: `{suffix}`\nConsider leaving the prompts blank if you want to do "
                "open-ended generation, otherwise ensure prompts are different"
            ),
        )
    if suffix:
        message = f"\n- All prompts end with suffix `{display(suffix)}`"
        if len(suffix) > 10:
            message += SHORTER.format(display(suggested))
        if stats.repeats(table.prompts, suffix):
            message += (
                f"\n  WARNING: Some of your prompts contain the suffix `{suffix}` more than once. We strongly "
                "suggest that you review your prompts and add a unique suffix"
            )
        return Finding("common_completion_suffix", immediate=message)
    return Finding(
        "common_completion_suffix",
        recommended_fix=partial(append_values, "prompts", suggested),
        immediate=(
            "\n- Your data does not contain a common separator at the end of your prompts. Having a separator string "
            "appended to the end of the prompt makes it clearer to the fine-tuned model where the completion should "
            f"begin. See {GUIDE} for more detail and examples. If you intend to do open-ended generation, then you "
            "should leave the prompts empty"
        ),
        recommended=f"Add a suffix separator `{display(suggested)}` to all prompts",
    )


# Fixes that change every value the same way (used under `partial`).
def map_values(column: str, change: Callable[[str], str], table: Table, say: Say) -> None:
    table.map_column(column, change)


def append_values(column: str, suffix: str, table: Table, say: Say) -> None:
    table.append_to(column, suffix)
