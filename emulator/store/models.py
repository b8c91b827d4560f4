"""The models table: fine-tuned models (base models live in the catalogue)."""

from __future__ import annotations

from typing import Any

from emulator.store.db import Database
from emulator.store.records import MODEL_COLUMNS, ModelRecord, model_record


class ModelsTable(Database):
    """Fine-tuned models by organisation; deleting only marks the row, so a child model keeps its lineage."""

    def insert_model(self, record: ModelRecord) -> None:
        self._execute(
            "INSERT INTO models (id, organization_id, created, root, parent, fine_tune_id, permission_id,"
            " checkpoint_step) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.id,
                record.organization_id,
                record.created,
                record.root,
                record.parent,
                record.fine_tune_id,
                record.permission_id,
                record.checkpoint_step,
            ),
        )

    def get_model(self, organization_id: str, model_id: str) -> ModelRecord | None:
        rows = self._query(
            f"SELECT {MODEL_COLUMNS} FROM models WHERE id = ? AND organization_id = ? AND deleted = 0",
            (model_id, organization_id),
        )
        return model_record(rows[0]) if rows else None

    def get_model_including_deleted(self, organization_id: str, model_id: str) -> ModelRecord | None:
        """A model row even if it was deleted since (a retrained model still knows its parent's examples)."""
        rows = self._query(
            f"SELECT {MODEL_COLUMNS} FROM models WHERE id = ? AND organization_id = ?",
            (model_id, organization_id),
        )
        return model_record(rows[0]) if rows else None

    def list_model_rows(self, organization_id: str) -> list[tuple[Any, ...]]:
        """The organisation's listed models (live, no checkpoint's) as raw rows of MODEL_COLUMNS, oldest first."""
        return self._tuples(
            f"SELECT {MODEL_COLUMNS} FROM models WHERE organization_id = ? AND deleted = 0"
            " AND checkpoint_step IS NULL ORDER BY seq",
            (organization_id,),
        )

    def model_name_taken(self, model_id: str) -> bool:
        return bool(self._query("SELECT 1 FROM models WHERE id = ?", (model_id,)))

    def model_ids_starting(self, prefix: str, *, first: str = "") -> set[str]:
        """Every model id (deleted ones too) that starts with `prefix`, from `first` on (in id order): one range
        read of the primary key."""
        bounds = (max(prefix, first), prefix + "\U0010ffff")
        rows = self._query("SELECT id FROM models WHERE id >= ? AND id < ?", bounds)
        return {row["id"] for row in rows}

    def delete_model(self, model_id: str) -> None:
        self._execute("UPDATE models SET deleted = 1 WHERE id = ?", (model_id,))

    def list_job_models(self, job_id: str) -> list[ModelRecord]:
        """Every model a job made (its checkpoints and its final model), deleted ones included, oldest first."""
        rows = self._query(f"SELECT {MODEL_COLUMNS} FROM models WHERE fine_tune_id = ? ORDER BY seq", (job_id,))
        return [model_record(row) for row in rows]
