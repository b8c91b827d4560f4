"""Typed shapes of the API's objects (TypedDicts over the wire JSON, which keeps the server's key order)."""

from __future__ import annotations

from typing import Any, Generic, Literal, TypedDict, TypeVar

T = TypeVar("T")


class ListObject(TypedDict, Generic[T]):
    object: Literal["list"]
    data: list[T]


class FileObject(TypedDict):
    object: Literal["file"]
    id: str
    purpose: str
    filename: str
    bytes: int
    created_at: int
    status: str
    status_details: str | None


class DeletedObject(TypedDict):
    id: str
    object: str
    deleted: bool


class FineTuneEvent(TypedDict):
    object: Literal["fine-tune-event"]
    level: str
    message: str
    created_at: int


class FineTune(TypedDict, total=False):
    object: Literal["fine-tune"]
    id: str
    hyperparams: dict[str, Any]
    organization_id: str
    model: str
    training_files: list[FileObject]
    validation_files: list[FileObject]
    result_files: list[FileObject]
    created_at: int
    updated_at: int
    status: str
    fine_tuned_model: str | None
    events: list[FineTuneEvent]  # absent from list items


class ModelPermission(TypedDict):
    id: str
    object: str
    created: int
    allow_create_engine: bool
    allow_sampling: bool
    allow_logprobs: bool
    allow_search_indices: bool
    allow_view: bool
    allow_fine_tuning: bool
    organization: str
    group: str | None
    is_blocking: bool


class Model(TypedDict, total=False):
    id: str
    object: Literal["model"]
    created: int
    owned_by: str
    permission: list[ModelPermission]
    root: str
    parent: str | None


class CompletionChoice(TypedDict):
    text: str
    index: int
    logprobs: dict[str, Any] | None
    finish_reason: str | None


class Usage(TypedDict):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class Completion(TypedDict, total=False):
    id: str
    object: str
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: Usage  # absent from stream chunks


TERMINAL_STATUSES = ("succeeded", "failed", "cancelled")
