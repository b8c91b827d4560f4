"""A fine-tuning job's plan, fixed at creation: "auto" hyperparameters resolved, steps, durations, its failure."""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass
from typing import Any

# Realistic durations in simulated seconds (modern-fine-tuning.md A3: 22-66 s to validate, 1-5 s to start,
# 6-39 min to train), divided by the speed factor; instant speed makes them all 0.
VALIDATION_SECONDS = 20.0
VALIDATION_SECONDS_PER_1K_TOKENS = 0.05
START_DELAY_SECONDS = 2.0
WARMUP_SECONDS = 60.0
STEP_SECONDS = 2.5
STEP_SECONDS_PER_1K_TOKENS = 0.5
UPLOAD_SECONDS = 30.0
KEPT_CHECKPOINTS = 3


def default_n_epochs(n_examples: int) -> int:
    """The cookbook's rule: 3 epochs, more for small files (up to 25), fewer for very large ones (at least 1)."""
    if n_examples * 3 < 100:
        return min(25, 100 // max(1, n_examples))
    if n_examples * 3 > 25_000:
        return max(1, 25_000 // n_examples)
    return 3


def default_batch_size(n_examples: int) -> int:
    """~0.2% of the examples, at least 1 (the captures show 1 on small files), at most 256 (ours)."""
    return max(1, min(256, round(0.002 * n_examples)))


def default_learning_rate_multiplier(n_examples: int) -> float:
    """2 from 50 examples up, 1.8 below (the captured values: 100 examples gave 2, 10 gave 1.8)."""
    return 2.0 if n_examples >= 50 else 1.8


def resolve_hyperparameters(method: dict[str, Any], n_examples: int) -> dict[str, Any]:
    """The method with every "auto" hyperparameter replaced by the value it runs with."""
    kind = method["type"]
    section = dict(method.get(kind) or {})
    given = dict(section.get("hyperparameters") or {})
    defaults: dict[str, Any] = {
        "batch_size": default_batch_size(n_examples),
        "learning_rate_multiplier": default_learning_rate_multiplier(n_examples),
        "n_epochs": default_n_epochs(n_examples),
    }
    if kind == "dpo":
        defaults["beta"] = 0.1
    if kind == "reinforcement":
        defaults.update(compute_multiplier=1.0, eval_interval=1, eval_samples=1, reasoning_effort="medium")
    resolved = {
        key: given[key] if given.get(key, "auto") not in ("auto", "default") else value
        for key, value in defaults.items()
    }
    section["hyperparameters"] = resolved
    return {"type": kind, kind: section}


def prepared(plan: dict[str, Any]) -> bool:
    """Whether a stored plan is ready (one holding at most a scripted outcome is still being prepared)."""
    return "n_examples" in plan


@dataclass(frozen=True)
class JobPlan:
    """What will happen to a job. `failure` is the job's error once its files are validated, if any."""

    processing: float
    start_delay: float
    failure: dict[str, Any] | None
    n_examples: int
    n_epochs: int
    batch_size: int
    total_steps: int
    trained_tokens: int
    warmup: float
    step_seconds: float
    upload: float
    has_validation: bool
    # A scripted outcome (emulator.core.outcomes), already applied: the training step whose moment fails the
    # job (0: right after the start; None: no scripted failure), and the outcome kept for later questions.
    fail_step: int | None = None
    outcome: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_json(data: dict[str, Any]) -> JobPlan:
        return JobPlan(**data)

    @property
    def steps_per_epoch(self) -> int:
        return self.total_steps // self.n_epochs if self.n_epochs else 0

    def checkpoint_steps(self) -> list[int]:
        return [epoch * self.steps_per_epoch for epoch in range(1, self.n_epochs + 1)]

    def offsets(self) -> tuple[float, ...]:
        """Seconds after the start of each training step, then of the model's upload (the last transition).

        A scripted failure cuts them: the last transition is then the failure, at its step's moment.
        """
        full = _offsets(self.warmup, self.step_seconds, self.total_steps, self.upload)
        if self.fail_step is None:
            return full
        return full[: self.fail_step] if self.fail_step else (0.0,)

    def fails_at(self, index: int) -> bool:
        """True when transition `index` of offsets() is the scripted failure."""
        return self.fail_step is not None and index == max(0, self.fail_step - 1)

    def duration(self) -> float:
        """The whole run as planned without a scripted failure (what `estimated_finish` shows)."""
        return _offsets(self.warmup, self.step_seconds, self.total_steps, self.upload)[-1]


@functools.lru_cache(maxsize=256)
def _offsets(warmup: float, step_seconds: float, total_steps: int, upload: float) -> tuple[float, ...]:
    steps = tuple(warmup + step * step_seconds for step in range(1, total_steps + 1))
    return (*steps, warmup + total_steps * step_seconds + upload)


def make_plan(
    *,
    method: dict[str, Any],
    example_tokens: list[int],
    token_limit: int,
    has_validation: bool,
    speed: float | None,
    failure: dict[str, Any] | None,
) -> JobPlan:
    """Billed tokens are capped at the model's example limit (longer examples are truncated, as the guide says)."""
    n_examples = len(example_tokens)
    billed = sum(min(count, token_limit) for count in example_tokens)
    resolved = resolve_hyperparameters(method, max(1, n_examples))
    hyperparameters = resolved[resolved["type"]]["hyperparameters"]
    n_epochs, batch_size = int(hyperparameters["n_epochs"]), int(hyperparameters["batch_size"])
    total_steps = 0 if failure else math.ceil(n_examples / batch_size) * n_epochs
    scale = 0.0 if speed is None else 1.0 / speed
    tokens_per_step = billed / max(1, math.ceil(n_examples / batch_size))
    return JobPlan(
        processing=(VALIDATION_SECONDS + billed / 1000 * VALIDATION_SECONDS_PER_1K_TOKENS) * scale,
        start_delay=START_DELAY_SECONDS * scale,
        failure=failure,
        n_examples=n_examples,
        n_epochs=n_epochs,
        batch_size=batch_size,
        total_steps=total_steps,
        trained_tokens=billed * n_epochs,
        warmup=WARMUP_SECONDS * scale,
        step_seconds=(STEP_SECONDS + tokens_per_step / 1000 * STEP_SECONDS_PER_1K_TOKENS) * scale,
        upload=UPLOAD_SECONDS * scale,
        has_validation=has_validation,
    )
