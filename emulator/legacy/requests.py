"""Checking a create-fine-tune request (§2.6, §4) and turning it into a stored job with its plan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from emulator.core.catalogue import BASE_MODELS, base_model_names
from emulator.core.container import Core
from emulator.core.errors import invalid_request
from emulator.core.lines import split_lines
from emulator.core.problems import Problem
from emulator.http import params
from emulator.legacy.training_file import parse_line
from emulator.store import FileRecord, Organization

CLASSIFICATION_KEYS = ("classification_n_classes", "classification_positive_class", "classification_betas")


@dataclass(frozen=True)
class FineTuneRequest:
    training_file: FileRecord
    validation_file: FileRecord | None
    model: str
    base_model: str
    suffix: str | None
    hyperparams: dict[str, Any]


def _training_file(app: Core, org: Organization, body: dict[str, Any], name: str, required: bool) -> FileRecord | None:
    file_id = params.string(body, name, required=required)
    if file_id is None:
        return None
    app.store.process_uploaded_files(org.id)
    record = app.store.get_file(org.id, file_id)
    if record is None:
        raise invalid_request(f"No such File object: {file_id}", param=name)
    if record.purpose != "fine-tune":
        raise invalid_request(
            f"File {file_id} has purpose '{record.purpose}'; fine-tuning needs a file with purpose 'fine-tune'.",
            param=name,
        )
    return record


def _base_model(app: Core, org: Organization, model: str) -> str:
    if model in BASE_MODELS:
        return model
    tuned = app.store.get_model(org.id, model)
    if tuned is None:
        raise invalid_request(
            f"Invalid base model: {model} (model must be one of {base_model_names()}) or a fine-tuned model "
            f"created by your organization: {org.id}",
            param="model",
        )
    return tuned.root


def _classification(body: dict[str, Any], has_validation: bool) -> dict[str, Any]:
    compute = params.boolean(body, "compute_classification_metrics")
    n_classes = params.integer(body, "classification_n_classes", minimum=2)
    positive = params.string(body, "classification_positive_class", min_length=1)
    betas = body.get("classification_betas")
    if betas is not None and (
        not isinstance(betas, list)
        or not all(isinstance(b, int | float) and not isinstance(b, bool) and b > 0 for b in betas)
    ):
        raise invalid_request(
            f"{betas!r} is not valid: 'classification_betas' must be a list of positive numbers",
            param="classification_betas",
        )
    if not compute:
        return {}
    if not has_validation:
        raise invalid_request(
            "Classification metrics need a validation file: set 'validation_file' to use "
            "'compute_classification_metrics'.",
            param="validation_file",
        )
    if n_classes is None and positive is None:
        raise invalid_request(
            "Classification metrics need 'classification_n_classes' (multiclass) or "
            "'classification_positive_class' (binary).",
            param="classification_n_classes",
        )
    if betas and n_classes is not None and n_classes > 2:
        raise invalid_request(
            "'classification_betas' apply to binary classification only.", param="classification_betas"
        )
    extra: dict[str, Any] = {
        "compute_classification_metrics": True,
        "classification_n_classes": n_classes,
        "classification_positive_class": positive,
    }
    if betas is not None:
        extra["classification_betas"] = betas
    return extra


def parse_create_fine_tune(app: Core, org: Organization, body: dict[str, Any]) -> FineTuneRequest:
    """Every check of the request, in the order the fields are documented; raises the first problem."""
    training = _training_file(app, org, body, "training_file", required=True)
    assert training is not None
    validation = _training_file(app, org, body, "validation_file", required=False)
    model = params.string(body, "model", "curie", min_length=1)
    assert model is not None
    base_model = _base_model(app, org, model)
    hyperparams: dict[str, Any] = {
        "n_epochs": params.integer(body, "n_epochs", 4, minimum=1, maximum=50),
        "batch_size": params.integer(body, "batch_size", minimum=1, maximum=256),
        "prompt_loss_weight": params.number(body, "prompt_loss_weight", 0.01, minimum=0, maximum=1),
        "learning_rate_multiplier": params.number(body, "learning_rate_multiplier", exclusive_minimum=0, maximum=10),
    }
    hyperparams.update(_classification(body, validation is not None))
    suffix = params.string(body, "suffix", min_length=1, max_length=40)
    return FineTuneRequest(training, validation, model, base_model, suffix, hyperparams)


def refuse_other_formats(app: Core, record: FileRecord) -> None:
    """A fine-tune file may now hold the modern API's lines (chat, preference, reinforcement): a legacy job
    refuses a file whose first line is not prompt/completion with the upload check's own words (a 400)."""
    for number, raw in split_lines(app.blobs.read_chunks(record.id)):
        found = parse_line(number, raw)
        if isinstance(found, Problem):
            raise invalid_request(found.message, param="training_file")
        if found is not None:
            return
