"""The store's typed rows: one frozen dataclass per table, and the typed changes a write may make."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any, TypedDict


@dataclass(frozen=True)
class Organization:
    id: str
    name: str
    created_at: int


@dataclass(frozen=True)
class FileRecord:
    id: str
    organization_id: str
    purpose: str
    filename: str
    bytes: int
    created_at: int
    status: str
    status_details: str | None
    deleted: bool


@dataclass(frozen=True)
class FineTuneRecord:
    seq: int
    id: str
    organization_id: str
    model: str
    base_model: str
    suffix: str | None
    hyperparams: dict[str, Any]
    training_file_ids: list[str]
    validation_file_ids: list[str]
    result_file_ids: list[str]
    created_at: float
    updated_at: int
    status: str
    fine_tuned_model: str | None
    plan: dict[str, Any]
    stage: int
    queue_number: int | None
    queued_at: float | None
    started_at: float | None
    finished_at: float | None


@dataclass(frozen=True)
class EventRecord:
    seq: int
    fine_tune_id: str
    level: str
    message: str
    created_at: int


@dataclass(frozen=True)
class ModelRecord:
    id: str
    organization_id: str
    created: int
    root: str
    parent: str
    fine_tune_id: str  # the job that made it: a legacy `ft-` or a fine-tuning job's `ftjob-` id
    permission_id: str
    deleted: bool
    checkpoint_step: int | None = None  # set on a checkpoint's model: the training step it was saved at


@dataclass(frozen=True)
class ChatExample:
    """One conversation a chat-format job learned: the turns before the reply, the reply, the tools it had.

    Supervised lines: the messages before the last assistant message, and that message (content and/or
    tool_calls). Preference (DPO) lines: input.messages and the preferred output. Completion-format lines of
    babbage-002 / davinci-002: one user message holding the prompt, and the completion as the reply.
    """

    messages: list[dict[str, Any]]
    reply: dict[str, Any]
    tools: list[dict[str, Any]] | None = None


@dataclass(frozen=True)
class NewFineTune:
    """What creating a legacy fine-tune writes; the rest of the row starts at its column default."""

    id: str
    organization_id: str
    model: str
    base_model: str
    suffix: str | None
    hyperparams: dict[str, Any]
    training_file_ids: list[str]
    validation_file_ids: list[str]
    created_at: float
    updated_at: int
    status: str
    plan: dict[str, Any]


class FineTuneChanges(TypedDict, total=False):
    """The columns a legacy fine-tune's lifecycle may change after creation."""

    hyperparams: dict[str, Any]
    result_file_ids: list[str]
    updated_at: int
    status: str
    fine_tuned_model: str | None
    stage: int
    queue_number: int | None
    queued_at: float | None
    started_at: float | None
    finished_at: float | None
    plan: dict[str, Any]  # a scripted outcome set on an existing job re-plans it (test-control plane)


# What a legacy fine-tune's list item shows (FineTuneRecord's names). Lists key each item's rendering by its raw
# row (a plain tuple) of these columns, and of FILE_COLUMNS and MODEL_COLUMNS: equal rows, equal JSON.
LISTED_FINE_TUNE_COLUMNS = (
    "id, hyperparams, organization_id, model, training_file_ids, validation_file_ids, result_file_ids, created_at, "
    "updated_at, status, fine_tuned_model"
)
LISTED_FINE_TUNE_FIELDS = tuple(LISTED_FINE_TUNE_COLUMNS.split(", "))
FILE_COLUMNS = "id, organization_id, purpose, filename, bytes, created_at, status, status_details, deleted"
MODEL_COLUMNS = "id, organization_id, created, root, parent, fine_tune_id, permission_id, deleted, checkpoint_step"
JSON_COLUMNS = ("hyperparams", "training_file_ids", "validation_file_ids", "result_file_ids", "plan")
FINE_TUNE_COLUMNS = (
    "seq, id, organization_id, model, base_model, suffix, hyperparams, training_file_ids, validation_file_ids, "
    "result_file_ids, created_at, updated_at, status, fine_tuned_model, plan, stage, queue_number, queued_at, "
    "started_at, finished_at"
)


def file_record(row: sqlite3.Row) -> FileRecord:
    return FileRecord(
        id=row["id"],
        organization_id=row["organization_id"],
        purpose=row["purpose"],
        filename=row["filename"],
        bytes=row["bytes"],
        created_at=row["created_at"],
        status=row["status"],
        status_details=row["status_details"],
        deleted=bool(row["deleted"]),
    )


def fine_tune_record(row: sqlite3.Row) -> FineTuneRecord:
    values = dict(row)
    for column in JSON_COLUMNS:
        values[column] = json.loads(values[column])
    return FineTuneRecord(**values)


def model_record(row: sqlite3.Row) -> ModelRecord:
    values = dict(row)
    values["deleted"] = bool(values["deleted"])
    return ModelRecord(**values)


def listed_fine_tune(row: tuple[Any, ...]) -> dict[str, Any]:
    """A row of LISTED_FINE_TUNE_COLUMNS by field name, its JSON decoded."""
    values = dict(zip(LISTED_FINE_TUNE_FIELDS, row, strict=True))
    for column in JSON_COLUMNS:
        if column in values:
            values[column] = json.loads(values[column])
    return values


def file_record_of(row: tuple[Any, ...]) -> FileRecord:
    """A row of FILE_COLUMNS as a record."""
    values = list(row)
    values[8] = bool(values[8])
    return FileRecord(*values)


def model_record_of(row: tuple[Any, ...]) -> ModelRecord:
    """A row of MODEL_COLUMNS as a record."""
    values = list(row)
    values[7] = bool(values[7])
    return ModelRecord(*values)
