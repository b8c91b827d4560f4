"""Simulated training metrics: a deterministic loss curve per job, the metrics events and the results file."""

from __future__ import annotations

import base64
import hashlib
import math
from collections.abc import Mapping
from typing import Any

RESULT_COLUMNS = "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy"
VALIDATION_EVERY = 10


def _noise(key: str, step: int, name: str) -> float:
    digest = hashlib.blake2b(f"{key}:{step}:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _loss(key: str, step: int, total: int, name: str, floor: float) -> float:
    progress = step / max(1, total)
    return round(floor + 1.6 * math.exp(-4 * progress) + 0.3 * _noise(key, step, name), 4)


def _accuracy(loss: float) -> float:
    return round(max(0.0, min(1.0, 1.0 - loss / 2.5)), 4)


def has_validation_at(step: int, total: int, has_validation: bool) -> bool:
    return has_validation and (step % VALIDATION_EVERY == 0 or step == total)


def step_metrics(key: str, step: int, total: int, has_validation: bool) -> dict[str, Any]:
    """A step's `data`, in the guide's key order; valid_* every 10 steps, full_valid_* on the last."""
    train = _loss(key, step, total, "train", 0.0)
    data: dict[str, Any] = {"step": step, "train_loss": train}
    if has_validation_at(step, total, has_validation):
        data["valid_loss"] = _loss(key, step, total, "valid", 0.1)
    data["total_steps"] = total
    if has_validation and step == total:
        data["full_valid_loss"] = _loss(key, step, total, "full", 0.12)
    data["train_mean_token_accuracy"] = _accuracy(train)
    if "valid_loss" in data:
        data["valid_mean_token_accuracy"] = _accuracy(data["valid_loss"])
    if "full_valid_loss" in data:
        data["full_valid_mean_token_accuracy"] = _accuracy(data["full_valid_loss"])
    return data


def step_message(data: dict[str, Any]) -> str:
    """`Step 290/303: training loss=0.00, validation loss=0.31` (captured wording)."""
    text = f"Step {data['step']}/{data['total_steps']}: training loss={data['train_loss']:.2f}"
    if "valid_loss" in data:
        text += f", validation loss={data['valid_loss']:.2f}"
    if "full_valid_loss" in data:
        text += f", full validation loss={data['full_valid_loss']:.2f}"
    return text


def checkpoint_metrics(data: dict[str, Any]) -> dict[str, float]:
    """A checkpoint's metrics: the step's, without total_steps."""
    return {key: value for key, value in data.items() if key != "total_steps"}


def results_file(
    key: str, total: int, has_validation: bool, known: Mapping[int, dict[str, Any]] | None = None
) -> bytes:
    """The result file's content: the per-step CSV, base64-encoded as the June 2024 cookbook run received it.

    `known`: steps' metrics already worked out (by the transition that ran them), by step.
    """
    rows = [RESULT_COLUMNS]
    known = known or {}
    for step in range(1, total + 1):
        data = known.get(step) or step_metrics(key, step, total, has_validation)
        valid = data.get("valid_loss")
        accuracy = data.get("valid_mean_token_accuracy")
        rows.append(
            f"{step},{data['train_loss']},{data['train_mean_token_accuracy']},"
            f"{'' if valid is None else valid},{'' if accuracy is None else accuracy}"
        )
    return base64.b64encode(("\n".join(rows) + "\n").encode())
