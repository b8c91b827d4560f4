"""Hypothesis strategies for fine-tuning data: field texts, training examples, whole training files, raw inputs."""

from __future__ import annotations

import json
import string
from typing import Any

from hypothesis import strategies as st

from client.prepare.csvfile import NA_VALUES

SEPARATOR = "\n\n###\n\n"
ENDING = "\n"
NA_WORDS = NA_VALUES  # cells pandas reads as missing: the legacy tool sees them as ""
FORMATS = ("csv", "tsv", "xlsx", "txt", "json", "jsonl")
_TRICKY = " ,\"'\n\t\\/;|#=.-> éüßİ日本😀\u2028"


def texts(
    *, min_size: int = 0, max_size: int = 40, tricky: bool = True, printable: bool = False
) -> st.SearchStrategy[str]:
    """Field values: words, plus (by default) quotes, commas, newlines, tabs, slashes and non-ASCII text.

    `printable` keeps to characters every spreadsheet stores unchanged (no control characters, no `\\r`).
    """
    alphabet = st.sampled_from(string.ascii_letters + string.digits + " " + (_TRICKY if tricky else ""))
    if not printable and tricky:
        alphabet = alphabet | st.characters(codec="utf-8")
    return st.text(alphabet, min_size=min_size, max_size=max_size)


def training_examples(
    *,
    separator: str | None = SEPARATOR,
    ending: str | None = ENDING,
    leading_space: bool = True,
    prompt: st.SearchStrategy[str] | None = None,
    completion: st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[dict[str, str]]:
    """One `{"prompt", "completion"}` example; by default already prepared (separator, ending, leading space).

    Pass `separator=None` / `ending=None` / `leading_space=False` for raw data that still needs preparing.
    """
    prompts = prompt if prompt is not None else texts(min_size=1)
    completions = completion if completion is not None else texts(min_size=1)

    def build(p: str, c: str) -> dict[str, str]:
        if separator is not None:
            p = p.replace(separator, " ") + separator
        if ending is not None:
            c = c.replace(ending, " ") + ending
        if leading_space and not c.startswith(" "):
            c = " " + c
        return {"prompt": p, "completion": c}

    return st.builds(build, prompts, completions)


def training_files(
    *,
    min_size: int = 1,
    max_size: int = 30,
    examples: st.SearchStrategy[dict[str, str]] | None = None,
    unique: bool = False,
) -> st.SearchStrategy[list[dict[str, str]]]:
    """A data set: a list of examples (by default raw: no separator, ending or leading space guaranteed).

    Unless `unique`, some examples are repeated, as real exports often repeat rows.
    """
    chosen = examples if examples is not None else training_examples(separator=None, ending=None, leading_space=False)
    if unique:
        return st.lists(
            chosen, min_size=min_size, max_size=max_size, unique_by=lambda e: (e["prompt"], e["completion"])
        )
    base = st.lists(chosen, min_size=min_size, max_size=max_size)
    return base.flatmap(
        lambda xs: st.lists(st.sampled_from(xs), max_size=3).map(lambda extra: xs + extra) if xs else st.just(xs)
    )


def prepared_files(*, min_size: int = 1, max_size: int = 30) -> st.SearchStrategy[list[dict[str, str]]]:
    """Data sets that are already in the prepared shape: separator, ending, leading space, unique rows."""
    return training_files(min_size=min_size, max_size=max_size, examples=training_examples(), unique=True)


def json_values(*, max_leaves: int = 10) -> st.SearchStrategy[Any]:
    """Any JSON value (no NaN/Infinity, integers within 64 bits)."""
    scalars = (
        st.none()
        | st.booleans()
        | st.integers(min_value=-(2**63), max_value=2**63 - 1)
        | st.floats(allow_nan=False, allow_infinity=False)
        | texts(max_size=10)
    )
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts(max_size=8), inner, max_size=4),
        max_leaves=max_leaves,
    )


def jsonl_lines(*, records: float = 0.7) -> st.SearchStrategy[str]:
    """One line of a would-be JSONL file: mostly records, sometimes garbage, non-objects or missing keys."""
    record = training_examples().map(json.dumps)
    garbage = st.sampled_from(['{"prompt": "x",', "not json", "[1, 2]", "3", '"text"', "{}", '{"prompt": "only"}'])
    other = json_values().map(json.dumps)
    return st.one_of(record, record, record, garbage, other) if records >= 0.5 else st.one_of(record, garbage, other)


def file_formats() -> st.SearchStrategy[str]:
    """An input format the tool reads, as its file extension."""
    return st.sampled_from(FORMATS)
