"""Typed rows of the modern API's tables: fine-tuning jobs, their events, checkpoints, permissions and uploads."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any, TypedDict

JOB_JSON_COLUMNS = ("method", "metadata", "integrations", "error", "result_files", "plan")


@dataclass(frozen=True)
class NewFineTuningJob:
    """What creating a fine-tuning job writes; the rest of the row starts at its column default."""

    id: str
    organization_id: str
    model: str
    base_model: str
    training_file: str
    validation_file: str | None
    suffix: str | None
    seed: int
    method: dict[str, Any]
    metadata: dict[str, str] | None
    integrations: list[dict[str, Any]]
    created_at: float
    status: str
    plan: dict[str, Any]


@dataclass(frozen=True)
class FineTuningJobRecord(NewFineTuningJob):
    """A stored job: what creation wrote, and what its lifecycle has set since."""

    seq: int
    error: dict[str, Any] | None
    fine_tuned_model: str | None
    result_files: list[str]
    trained_tokens: int | None
    stage: int
    queued_at: float | None
    started_at: float | None
    finished_at: float | None
    paused_at: float | None
    paused_total: float


class FineTuningJobChanges(TypedDict, total=False):
    """The columns a fine-tuning job's lifecycle may change after creation."""

    method: dict[str, Any]
    status: str
    error: dict[str, Any] | None
    fine_tuned_model: str | None
    result_files: list[str]
    trained_tokens: int | None
    stage: int
    queued_at: float | None
    started_at: float | None
    finished_at: float | None
    paused_at: float | None
    paused_total: float
    plan: dict[str, Any]  # a scripted outcome set on an existing job re-plans it (test-control plane)


@dataclass(frozen=True)
class JobEventRecord:
    seq: int
    id: str
    job_id: str
    created_at: int
    level: str
    message: str
    data: dict[str, Any] | None
    type: str


@dataclass(frozen=True)
class NewJobEvent:
    """An event to write; its id and seq are given by the store."""

    message: str
    created_at: int
    level: str = "info"
    data: dict[str, Any] | None = None
    type: str = "message"


@dataclass(frozen=True)
class CheckpointRecord:
    seq: int
    id: str
    job_id: str
    created_at: int
    fine_tuned_model_checkpoint: str
    step_number: int
    metrics: dict[str, float]
    deleted: bool


@dataclass(frozen=True)
class CheckpointPermissionRecord:
    seq: int
    id: str
    checkpoint_model: str
    project_id: str
    created_at: int


@dataclass(frozen=True)
class UploadRecord:
    id: str
    organization_id: str
    filename: str
    purpose: str
    bytes: int
    mime_type: str
    created_at: int
    expires_at: int
    status: str
    file_id: str | None


@dataclass(frozen=True)
class UploadPartRecord:
    id: str
    upload_id: str
    created_at: int
    bytes: int


def job_record(row: sqlite3.Row) -> FineTuningJobRecord:
    values = dict(row)
    for column in JOB_JSON_COLUMNS:
        if values[column] is not None:
            values[column] = json.loads(values[column])
    return FineTuningJobRecord(**values)


def job_event_record(row: sqlite3.Row) -> JobEventRecord:
    values = dict(row)
    values["data"] = None if values["data"] is None else json.loads(values["data"])
    return JobEventRecord(**values)


def checkpoint_record(row: sqlite3.Row) -> CheckpointRecord:
    values = dict(row)
    values["metrics"] = json.loads(values["metrics"])
    values["deleted"] = bool(values["deleted"])
    return CheckpointRecord(**values)
