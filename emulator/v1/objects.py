"""The modern API's objects in the real key order: fine_tuning.job, its events, checkpoints and permissions."""

from __future__ import annotations

from typing import Any

from emulator.store.job_records import (
    CheckpointPermissionRecord,
    CheckpointRecord,
    FineTuningJobRecord,
    JobEventRecord,
)
from emulator.v1.plan import JobPlan

SUPERVISED_KEYS = ("batch_size", "learning_rate_multiplier", "n_epochs")


def _hyperparameters(job: FineTuningJobRecord) -> dict[str, Any] | None:
    """Top-level hyperparameters are only shown for supervised jobs (the spec; DPO captures show None)."""
    if job.method["type"] != "supervised":
        return None
    values = job.method["supervised"]["hyperparameters"]
    return {key: values[key] for key in SUPERVISED_KEYS}


def _estimated_finish(job: FineTuningJobRecord) -> int | None:
    """A Unix time while running, as the spec describes it (every capture shows null; ours to fill)."""
    if job.status != "running" or job.started_at is None:
        return None
    return int(job.started_at + job.paused_total + JobPlan.from_json(job.plan).duration())


def job_object(job: FineTuningJobRecord) -> dict[str, Any]:
    succeeded = job.status == "succeeded"
    return {
        "object": "fine_tuning.job",
        "id": job.id,
        "model": job.model,
        "created_at": int(job.created_at),
        "finished_at": int(job.finished_at) if succeeded and job.finished_at is not None else None,
        "fine_tuned_model": job.fine_tuned_model,
        "organization_id": job.organization_id,
        "result_files": job.result_files,
        "status": job.status,
        "validation_file": job.validation_file,
        "training_file": job.training_file,
        "hyperparameters": _hyperparameters(job),
        "method": job.method,
        "trained_tokens": job.trained_tokens if succeeded else None,
        "error": job.error,
        "user_provided_suffix": job.suffix,
        "seed": job.seed,
        "estimated_finish": _estimated_finish(job),
        "integrations": job.integrations,
        "metadata": job.metadata,
    }


def event_object(event: JobEventRecord) -> dict[str, Any]:
    return {
        "object": "fine_tuning.job.event",
        "id": event.id,
        "created_at": event.created_at,
        "level": event.level,
        "message": event.message,
        "data": event.data,
        "type": event.type,
    }


def checkpoint_object(checkpoint: CheckpointRecord) -> dict[str, Any]:
    return {
        "object": "fine_tuning.job.checkpoint",
        "id": checkpoint.id,
        "created_at": checkpoint.created_at,
        "fine_tuned_model_checkpoint": checkpoint.fine_tuned_model_checkpoint,
        "fine_tuning_job_id": checkpoint.job_id,
        "metrics": checkpoint.metrics,
        "step_number": checkpoint.step_number,
    }


def permission_object(permission: CheckpointPermissionRecord) -> dict[str, Any]:
    return {
        "object": "checkpoint.permission",
        "id": permission.id,
        "created_at": permission.created_at,
        "project_id": permission.project_id,
    }
