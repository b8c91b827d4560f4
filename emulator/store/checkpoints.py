"""The checkpoint tables: the models a fine-tuning job saved at epoch ends, and who they are shared with."""

from __future__ import annotations

import json

from emulator.store.db import Database
from emulator.store.job_records import CheckpointPermissionRecord, CheckpointRecord, checkpoint_record


class CheckpointsTable(Database):
    """Checkpoints by job (the dropped ones kept, marked deleted); permissions by checkpoint model."""

    def insert_checkpoint(
        self, checkpoint_id: str, job_id: str, created_at: int, model: str, step: int, metrics: dict[str, float]
    ) -> None:
        self._execute(
            "INSERT INTO fine_tuning_checkpoints (id, job_id, created_at, fine_tuned_model_checkpoint, step_number,"
            " metrics) VALUES (?, ?, ?, ?, ?, ?)",
            (checkpoint_id, job_id, created_at, model, step, json.dumps(metrics)),
        )

    def list_checkpoints(self, job_id: str, *, include_deleted: bool = False) -> list[CheckpointRecord]:
        """Newest first."""
        sql = "SELECT * FROM fine_tuning_checkpoints WHERE job_id = ?"
        if not include_deleted:
            sql += " AND deleted = 0"
        return [checkpoint_record(row) for row in self._query(sql + " ORDER BY seq DESC", (job_id,))]

    def delete_checkpoint(self, checkpoint_id: str) -> None:
        self._execute("UPDATE fine_tuning_checkpoints SET deleted = 1 WHERE id = ?", (checkpoint_id,))

    def insert_checkpoint_permission(self, permission: CheckpointPermissionRecord) -> None:
        self._execute(
            "INSERT INTO checkpoint_permissions (id, checkpoint_model, project_id, created_at) VALUES (?, ?, ?, ?)",
            (permission.id, permission.checkpoint_model, permission.project_id, permission.created_at),
        )

    def list_checkpoint_permissions(self, checkpoint_model: str) -> list[CheckpointPermissionRecord]:
        """Oldest first."""
        rows = self._query(
            "SELECT seq, id, checkpoint_model, project_id, created_at FROM checkpoint_permissions"
            " WHERE checkpoint_model = ? AND deleted = 0 ORDER BY seq",
            (checkpoint_model,),
        )
        return [CheckpointPermissionRecord(**dict(row)) for row in rows]

    def delete_checkpoint_permission(self, checkpoint_model: str, permission_id: str) -> bool:
        with self.transaction():
            found = self._query(
                "SELECT 1 FROM checkpoint_permissions WHERE id = ? AND checkpoint_model = ? AND deleted = 0",
                (permission_id, checkpoint_model),
            )
            if found:
                self._execute("UPDATE checkpoint_permissions SET deleted = 1 WHERE id = ?", (permission_id,))
        return bool(found)
