"""compiled_results.csv: the fast loop writes exactly what the plain definition of each cell gives."""

from __future__ import annotations

import math
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.legacy.results import VALIDATION_EVERY, ResultsSpec, compiled_results, results_columns


def _plain_accuracy(rng: random.Random, progress: float, floor: float) -> float:
    return min(1.0, max(0.0, floor + (1 - floor) * progress + rng.uniform(-0.08, 0.08)))


def plain_results(spec: ResultsSpec) -> str:
    """The definition, spelled as plainly as possible (the loop compiled_results had before it was tuned)."""
    rng = random.Random(spec.seed)
    columns, extra = results_columns(spec)
    lines = [",".join(columns)]
    n = max(1, len(spec.example_tokens))
    steps_per_epoch = math.ceil(n / spec.batch_size)
    total = steps_per_epoch * spec.n_epochs
    start_loss = rng.uniform(0.25, 0.6)
    elapsed_tokens = elapsed_examples = 0
    for step in range(1, total + 1):
        first = ((step - 1) % steps_per_epoch) * spec.batch_size
        batch = spec.example_tokens[first : first + spec.batch_size]
        elapsed_tokens += sum(batch) or 1
        elapsed_examples += len(batch)
        progress = step / total
        loss = start_loss * math.exp(-2.2 * progress) * rng.uniform(0.8, 1.2)
        sequence = float(rng.random() < progress * 0.9)
        cells = [step, elapsed_tokens, elapsed_examples, repr(loss), repr(sequence)]
        cells.append(repr(_plain_accuracy(rng, progress, 0.45)))
        if spec.has_validation:
            if step == 1 or step % VALIDATION_EVERY == 1 or step == total:
                validation_loss = loss * rng.uniform(1.0, 1.4)
                sequence = float(rng.random() < progress * 0.8)
                cells += [repr(validation_loss), repr(sequence), repr(_plain_accuracy(rng, progress, 0.4))]
            else:
                cells += ["", "", ""]
        if step == total:
            cells += [repr(_plain_accuracy(rng, progress, 0.5)) for _ in extra]
        else:
            cells += [""] * len(extra)
        lines.append(",".join(map(str, cells)))
    return "\n".join(lines) + "\n"


classifications = st.one_of(
    st.none(),
    st.fixed_dictionaries({"classification_n_classes": st.integers(3, 6)}),
    st.fixed_dictionaries(
        {"classification_positive_class": st.just(" yes")},
        optional={"classification_betas": st.lists(st.sampled_from([0.5, 1, 1.0, 2, 3.5]), max_size=3)},
    ),
)


@settings(max_examples=300, deadline=None)
@given(
    seed=st.text(max_size=12),
    example_tokens=st.lists(st.integers(0, 2_000), max_size=120),
    batch_size=st.integers(1, 40),
    n_epochs=st.integers(1, 5),
    has_validation=st.booleans(),
    classification=classifications,
)
def test_compiled_results_equals_its_plain_definition(
    seed: str,
    example_tokens: list[int],
    batch_size: int,
    n_epochs: int,
    has_validation: bool,
    classification: dict[str, object] | None,
) -> None:
    spec = ResultsSpec(seed, example_tokens, batch_size, n_epochs, has_validation, classification)
    assert compiled_results(spec) == plain_results(spec)


def test_compiled_results_of_a_bench_sized_job_equals_its_plain_definition() -> None:
    """100 examples of 13 tokens, batch 1, 4 epochs: the create the mixed-traffic bench makes over and over."""
    for number in range(50):
        spec = ResultsSpec(f"{number}:ft-{number}", [13] * 100, 1, 4, False, None)
        assert compiled_results(spec) == plain_results(spec)
