"""Checking a create-fine-tuning-job request (modern-fine-tuning.md A2): every field and bound, in order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from emulator.core.catalogue import ModernModel, modern_model, snapshot_of
from emulator.core.container import Core
from emulator.core.errors import invalid_request
from emulator.http import params
from emulator.store import FileRecord, Organization

METHODS = ("supervised", "dpo", "reinforcement")
GRADERS = ("string_check", "text_similarity", "python", "score_model", "multi")
REASONING_EFFORTS = ("default", "low", "medium", "high")
MAX_SEED = 2_147_483_647


@dataclass(frozen=True)
class JobRequest:
    model: str  # as the job shows it: the snapshot an alias stands for, or the fine-tuned model continued
    base: ModernModel  # the snapshot being tuned
    training_file: FileRecord
    validation_file: FileRecord | None
    suffix: str | None
    seed: int | None
    method: dict[str, Any]
    metadata: dict[str, str] | None
    integrations: list[dict[str, Any]]


def not_available(model: str) -> Exception:
    return invalid_request(
        f"Model {model} is not available for fine-tuning or does not exist.", code="model_not_available"
    )


def _model(app: Core, org: Organization, model: str) -> tuple[str, ModernModel]:
    if model.startswith("ft:"):
        found = modern_model(model)
        if found is None or app.store.get_model(org.id, model) is None:
            raise not_available(model)
        return model, snapshot_of(found)
    found = modern_model(model)
    # Only dated snapshots work today; gpt-3.5-turbo was the one alias that was accepted and resolved.
    if found is None or not found.methods:
        raise not_available(model)
    snapshot = snapshot_of(found)
    return snapshot.id, snapshot


def _file(app: Core, org: Organization, body: dict[str, Any], name: str, required: bool) -> FileRecord | None:
    file_id = params.string(body, name, required=required)
    if file_id is None:
        return None
    app.store.process_uploaded_files(org.id)
    record = app.store.get_file(org.id, file_id)
    if record is None or record.purpose != "fine-tune":
        raise invalid_request(f"invalid {name}: {file_id}", param=name)
    return record


def _auto(values: dict[str, Any], key: str, path: str, kind: str, **bounds: float) -> Any:
    """`"auto"` (or absent), or a number within its bounds; errors name the field's full path."""
    value = values.get(key, "auto")
    if value == "auto":
        return "auto"
    check = params.integer if kind == "integer" else params.number
    return check({path: value}, path, **bounds)  # type: ignore[arg-type]


def _object(value: Any, path: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid_request(f"{value!r} is not of type 'object' - '{path}'", param=path)
    return value


def _hyperparameters(value: Any, path: str, method: str) -> dict[str, Any]:
    given = _object(value, path)
    found = {
        "batch_size": _auto(given, "batch_size", f"{path}.batch_size", "integer", minimum=1, maximum=256),
        "learning_rate_multiplier": _auto(
            given, "learning_rate_multiplier", f"{path}.learning_rate_multiplier", "number", exclusive_minimum=0
        ),
        "n_epochs": _auto(given, "n_epochs", f"{path}.n_epochs", "integer", minimum=1, maximum=50),
    }
    if method == "dpo":
        found["beta"] = _auto(given, "beta", f"{path}.beta", "number", exclusive_minimum=0, maximum=2)
    if method == "reinforcement":
        effort = given.get("reasoning_effort", "default")
        if effort not in REASONING_EFFORTS:
            raise invalid_request(
                f"{effort!r} is not one of {list(REASONING_EFFORTS)} - '{path}.reasoning_effort'",
                param=f"{path}.reasoning_effort",
            )
        found["reasoning_effort"] = effort
        found["compute_multiplier"] = _auto(
            given, "compute_multiplier", f"{path}.compute_multiplier", "number", exclusive_minimum=0.00001, maximum=10
        )
        found["eval_interval"] = _auto(given, "eval_interval", f"{path}.eval_interval", "integer", minimum=1)
        found["eval_samples"] = _auto(given, "eval_samples", f"{path}.eval_samples", "integer", minimum=1)
    return found


def _method(body: dict[str, Any]) -> dict[str, Any]:
    """The method as the job shows it: always present (supervised when omitted), "auto" where not given."""
    method = _object(body.get("method"), "method")
    kind = method.get("type", "supervised")
    if kind not in METHODS:
        raise invalid_request(f"{kind!r} is not one of {list(METHODS)} - 'method.type'", param="method.type")
    section = _object(method.get(kind), f"method.{kind}")
    legacy = body.get("hyperparameters")
    if legacy is not None and section.get("hyperparameters") is not None:
        raise invalid_request(
            "Specify hyperparameters in 'method' only: 'hyperparameters' is deprecated.", param="hyperparameters"
        )
    source, path = (
        (legacy, "hyperparameters")
        if legacy is not None
        else (section.get("hyperparameters"), f"method.{kind}.hyperparameters")
    )
    result: dict[str, Any] = {"hyperparameters": _hyperparameters(source, path, kind)}
    if kind == "reinforcement":
        grader = section.get("grader")
        if not isinstance(grader, dict):
            raise invalid_request(
                "'grader' is a required property - 'method.reinforcement'", param="method.reinforcement.grader"
            )
        if grader.get("type") not in GRADERS:
            raise invalid_request(
                f"{grader.get('type')!r} is not one of {list(GRADERS)} - 'method.reinforcement.grader.type'",
                param="method.reinforcement.grader.type",
            )
        result = {"grader": grader, **result}
    return {"type": kind, kind: result}


def _metadata(body: dict[str, Any]) -> dict[str, str] | None:
    value = body.get("metadata")
    if value is None:
        return None
    metadata = _object(value, "metadata")
    if len(metadata) > 16:
        raise invalid_request("Invalid 'metadata': too many properties (at most 16).", param="metadata")
    for key, item in metadata.items():
        if len(key) > 64:
            raise invalid_request(f"Invalid 'metadata': key {key!r} is longer than 64 characters.", param="metadata")
        if not isinstance(item, str) or len(item) > 512:
            raise invalid_request(
                f"Invalid 'metadata': the value of {key!r} must be a string of at most 512 characters.",
                param="metadata",
            )
    return metadata


def _integrations(body: dict[str, Any]) -> list[dict[str, Any]]:
    value = body.get("integrations")
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > 5:
        raise invalid_request("'integrations' must be a list of at most 5 integrations.", param="integrations")
    for index, item in enumerate(value):
        path = f"integrations[{index}]"
        if not isinstance(item, dict) or item.get("type") != "wandb":
            raise invalid_request(f"'type' must be 'wandb' - '{path}'", param=f"{path}.type")
        wandb = _object(item.get("wandb"), f"{path}.wandb")
        params.string(wandb, "project", required=True)
        tags = wandb.get("tags") or []
        if not isinstance(tags, list) or len(tags) > 50 or any(not isinstance(t, str) or len(t) > 64 for t in tags):
            raise invalid_request(
                "W&B tags must be a list of at most 50 strings of at most 64 characters.", param=f"{path}.wandb.tags"
            )
    return value


def parse_create_job(app: Core, org: Organization, body: dict[str, Any]) -> JobRequest:
    """Every check of the request; raises the first problem. The files' content is checked by the job."""
    requested = params.string(body, "model", required=True)
    assert requested is not None
    training = _file(app, org, body, "training_file", required=True)
    assert training is not None
    validation = _file(app, org, body, "validation_file", required=False)
    model, base = _model(app, org, requested)
    method = _method(body)
    if method["type"] not in base.methods:
        raise not_available(requested)
    suffix = params.string(body, "suffix", min_length=1, max_length=64)
    seed = params.integer(body, "seed", minimum=0, maximum=MAX_SEED)
    return JobRequest(model, base, training, validation, suffix, seed, method, _metadata(body), _integrations(body))
