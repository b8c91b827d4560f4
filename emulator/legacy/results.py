"""compiled_results.csv (§7): one row per training step, a plausible falling loss, deterministic per job."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass

TRAINING_COLUMNS = [
    "step",
    "elapsed_tokens",
    "elapsed_examples",
    "training_loss",
    "training_sequence_accuracy",
    "training_token_accuracy",
]
VALIDATION_COLUMNS = ["validation_loss", "validation_sequence_accuracy", "validation_token_accuracy"]
VALIDATION_EVERY = 8


@dataclass(frozen=True)
class ResultsSpec:
    seed: str
    example_tokens: list[int]
    batch_size: int
    n_epochs: int
    has_validation: bool
    classification: dict[str, object] | None


def classification_columns(options: dict[str, object]) -> list[str]:
    n_classes = options.get("classification_n_classes")
    if isinstance(n_classes, int) and n_classes > 2:
        return ["classification/accuracy", "classification/weighted_f1_score"]
    columns = [f"classification/{name}" for name in ("accuracy", "precision", "recall", "auroc", "auprc", "f1.0")]
    betas = options.get("classification_betas") or []
    assert isinstance(betas, list)
    columns += [f"classification/f{float(beta)}" for beta in betas if float(beta) != 1.0]
    return columns


def results_columns(spec: ResultsSpec) -> tuple[list[str], list[str]]:
    """Every column of the file, and the classification ones among them (measured on the last step only)."""
    extra = classification_columns(spec.classification) if spec.classification else []
    return [*TRAINING_COLUMNS, *(VALIDATION_COLUMNS if spec.has_validation else []), *extra], extra


def _batches(example_tokens: list[int], batch_size: int) -> list[tuple[int, int]]:
    """(tokens, examples) of each training step of an epoch: a step counts at least one token."""
    prefix = [0, *itertools.accumulate(example_tokens)]  # a batch's tokens in O(1), not one add per example
    count = len(example_tokens)
    steps = math.ceil(max(1, count) / batch_size)
    ends = [(first, min(first + batch_size, count)) for first in range(0, steps * batch_size, batch_size)]
    return [((prefix[end] - prefix[first] if end > first else 0) or 1, max(0, end - first)) for first, end in ends]


def _accuracy(draw: Callable[[], float], progress: float, floor: float) -> float:
    """floor + (1 - floor) * progress, plus rng.uniform(-0.08, 0.08) from `draw` (rng.random), within [0, 1]."""
    value = floor + (1 - floor) * progress + (-0.08 + (0.08 - -0.08) * draw())
    return 1.0 if value >= 1.0 else value if value > 0.0 else 0.0  # min(1.0, max(0.0, value)), -0.0 included


def compiled_results(spec: ResultsSpec) -> str:
    """The whole CSV text, '\\n' line endings, floats in repr precision, empty cells where not measured.

    The loop runs once a training step, so it spells out what rng.uniform(a, b) is (a + (b - a) * rng.random(),
    the same floats) and writes a 0/1 accuracy as its repr; tests/emulator/legacy/test_results.py checks it
    against the plain definition over many specs.
    """
    rng = random.Random(spec.seed)
    draw, exp = rng.random, math.exp
    columns, extra = results_columns(spec)
    lines = [",".join(columns)]
    batches = _batches(spec.example_tokens, spec.batch_size)
    total = len(batches) * spec.n_epochs
    start_loss = rng.uniform(0.25, 0.6)
    elapsed_tokens = elapsed_examples = 0
    for step, (tokens, examples) in enumerate(batches * spec.n_epochs, 1):
        elapsed_tokens += tokens
        elapsed_examples += examples
        progress = step / total
        loss = start_loss * exp(-2.2 * progress) * (0.8 + (1.2 - 0.8) * draw())
        sequence = "1.0" if draw() < progress * 0.9 else "0.0"
        line = f"{step},{elapsed_tokens},{elapsed_examples},{loss!r},{sequence},{_accuracy(draw, progress, 0.45)!r}"
        if spec.has_validation:
            if step == 1 or step % VALIDATION_EVERY == 1 or step == total:  # measured on this step
                validation_loss = loss * (1.0 + (1.4 - 1.0) * draw())
                sequence = "1.0" if draw() < progress * 0.8 else "0.0"
                line += f",{validation_loss!r},{sequence},{_accuracy(draw, progress, 0.4)!r}"
            else:
                line += ",,,"
        if extra:
            if step == total:
                line += "".join(f",{_accuracy(draw, progress, 0.5)!r}" for _ in extra)
            else:
                line += "," * len(extra)
        lines.append(line)
    return "\n".join(lines) + "\n"
