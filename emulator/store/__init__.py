"""All SQL: one module per table family behind one Store, typed rows in records, append-only migrations."""

from __future__ import annotations

from pathlib import Path

from emulator.store.chat_examples import ChatExamplesTable
from emulator.store.checkpoints import CheckpointsTable
from emulator.store.files import FilesTable
from emulator.store.fine_tunes import FineTunesTable
from emulator.store.fine_tuning_jobs import FineTuningJobsTable
from emulator.store.models import ModelsTable
from emulator.store.organizations import OrganizationsTable
from emulator.store.records import (
    ChatExample,
    EventRecord,
    FileRecord,
    FineTuneChanges,
    FineTuneRecord,
    ModelRecord,
    NewFineTune,
    Organization,
)
from emulator.store.uploads import UploadsTable


class Store(
    OrganizationsTable,
    FilesTable,
    FineTunesTable,
    ModelsTable,
    ChatExamplesTable,
    FineTuningJobsTable,
    CheckpointsTable,
    UploadsTable,
):
    """The emulator's persistent state: every table family over one connection. One per app."""

    def __init__(self, path: Path | None, *, seed: int | None = None) -> None:
        super().__init__(path, seed=seed)


__all__ = [
    "ChatExample",
    "EventRecord",
    "FileRecord",
    "FineTuneChanges",
    "FineTuneRecord",
    "ModelRecord",
    "NewFineTune",
    "Organization",
    "Store",
]
