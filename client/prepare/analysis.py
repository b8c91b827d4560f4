"""The legacy pipeline as a library: run the checks in order (`check`), then apply accepted fixes (`fix`)."""

from __future__ import annotations

import os
import random
from collections import Counter
from collections.abc import Callable, Collection, Iterator

from client.prepare import endings, validators
from client.prepare.jsonfile import Records, as_table
from client.prepare.table import Finding, PrepareError, Say, Table

VALIDATORS: tuple[validators.Validator, ...] = (
    validators.num_examples,
    validators.necessary_column("prompt"),
    validators.necessary_column("completion"),
    validators.additional_column,
    validators.empty_completion,
    validators.format_inferrer,
    validators.duplicated_rows,
    validators.long_examples,
    validators.lower_case("prompt"),
    validators.lower_case("completion"),
    validators.common_prompt_suffix,
    endings.common_prompt_prefix,
    endings.common_completion_prefix,
    endings.common_completion_suffix,
    endings.completion_space_start,
)
Accept = bool | Collection[str] | Callable[[Finding], bool]
MAX_PASSES = 10


def _quiet(text: str) -> None:
    return None


def analyse(table: Table, say: Say = _quiet) -> Iterator[Finding]:
    """Findings in order (the read's first); each necessary fix is applied to `table` right after its finding.

    Stops after the first finding with an error.
    """
    if table.read is not None:
        yield table.read
    for validate in VALIDATORS:
        finding = validate(table)
        if finding is None:
            continue
        yield finding
        if finding.error is not None:
            return
        if finding.necessary_fix is not None:
            finding.necessary_fix(table, say)


def check(records: Records) -> list[Finding]:
    """Every finding for these records (the input is not changed); an error finding, if any, comes last."""
    return list(analyse(as_table(records).copy()))


def accepts(accept: Accept, finding: Finding) -> bool:
    if isinstance(accept, bool):
        return accept
    if callable(accept):
        return accept(finding)
    return finding.name in accept


def fix(records: Records, accept: Accept = True, say: Say = _quiet, *, until_stable: bool = False) -> Table:
    """The prepared records: necessary fixes always, recommended ones where `accept` says so.

    `accept` is True/False for all, a collection of finding names, or a predicate. One pass is exactly what the
    legacy tool writes with `-q`; `until_stable` repeats the pass until nothing accepted is left to do (a pass can
    create work for the next: lowercasing can make new duplicates, the ` END` ending adds capitals). Raises
    PrepareError.
    """
    table = _one_pass(as_table(records).copy(), accept, say)
    for _ in range(MAX_PASSES if until_stable else 0):
        if not pending(check(table), accept):
            break
        table = _one_pass(table, accept, say)
    return table


def pending(findings: list[Finding], accept: Accept = True) -> list[Finding]:
    """Findings that still ask for a change: an error, a necessary fix, or an accepted recommendation."""
    return [
        f
        for f in findings
        if f.error is not None
        or (f.necessary is not None and f.name != "read_any_format")
        or (f.recommended is not None and accepts(accept, f))
    ]


def _one_pass(table: Table, accept: Accept, say: Say) -> Table:
    findings = list(analyse(table, say))
    failed = findings[-1]
    if failed.error is not None:
        raise PrepareError(failed.name, failed.error)
    for finding in findings:
        if finding.recommended_fix is not None and accepts(accept, finding):
            finding.recommended_fix(table, say)
    table.read = None
    return table


def _legacy_permutation(n: int, seed: int = 42) -> list[int]:
    """numpy's `RandomState(seed).permutation(n)` (Mersenne Twister, init_genrand, masked rejection)."""
    state = [seed & 0xFFFFFFFF]
    for i in range(1, 624):
        prev = state[-1]
        state.append((1812433253 * (prev ^ (prev >> 30)) + i) & 0xFFFFFFFF)
    rng = random.Random()
    rng.setstate((3, (*state, 624), None))
    order = list(range(n))
    for i in range(n - 1, 0, -1):
        mask = (1 << i.bit_length()) - 1
        j = rng.getrandbits(32) & mask
        while j > i:
            j = rng.getrandbits(32) & mask
        order[i], order[j] = order[j], order[i]
    return order


def split(table: Table, max_valid: int = 1000) -> tuple[Table, Table]:
    """Train and validation sets exactly as `df.sample(n=n_train, random_state=42)` and the rest, in order."""
    n = len(table)
    n_train = max(n - max_valid, int(n * 0.8))
    train_rows = _legacy_permutation(n)[:n_train]
    chosen = set(train_rows)
    train, valid = table.copy(), table.copy()
    train.keep(train_rows)
    valid.keep(i for i in range(n) if i not in chosen)
    return train, valid


def classification_flags(table: Table) -> str:
    counts = Counter(table.completions)
    flags = " --compute_classification_metrics"
    if len(counts) == 2:
        return flags + f' --classification_positive_class "{counts.most_common(1)[0][0]}"'
    return flags + f" --classification_n_classes {len(counts)}"


def output_names(path: str, split: bool) -> list[str]:
    """`{stem}_prepared.jsonl` (or `_train`/`_valid`), with ` (1)`, ` (2)`, … when a name is taken."""
    suffixes = ["_train", "_valid"] if split else [""]
    stem = os.path.splitext(path)[0]
    i = 0
    while True:
        index = f" ({i})" if i > 0 else ""
        names = [f"{stem}_prepared{suffix}{index}.jsonl" for suffix in suffixes]
        if not any(os.path.isfile(name) for name in names):
            return names
        i += 1


def training_time(table: Table) -> str:
    """The legacy time estimate: 1.44 s per classification row, else pandas memory bytes × 0.0515; + 140 s."""
    n = len(table)
    if table.task_type() == "classification":
        seconds = n * 1.44
    else:
        index_bytes = 8 * n if table.rows_dropped else 132
        seconds = (index_bytes + 16 * n) * 0.0515
    seconds += 140
    if seconds < 60:
        return f"{round(seconds, 2)} seconds"
    if seconds < 3600:
        return f"{round(seconds / 60, 2)} minutes"
    if seconds < 86400:
        return f"{round(seconds / 3600, 2)} hours"
    return f"{round(seconds / 86400, 2)} days"
