"""The files table: uploaded and result files (their bytes live in the blob store)."""

from __future__ import annotations

from collections.abc import Iterable

from emulator.store.db import Database
from emulator.store.records import FileRecord, file_record


class FilesTable(Database):
    """Files by organisation, in upload order; deleting only marks the row."""

    def insert_file(self, record: FileRecord) -> None:
        self._execute(
            "INSERT INTO files (id, organization_id, purpose, filename, bytes, created_at, status, status_details)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.id,
                record.organization_id,
                record.purpose,
                record.filename,
                record.bytes,
                record.created_at,
                record.status,
                record.status_details,
            ),
        )

    def get_file(self, organization_id: str, file_id: str, *, include_deleted: bool = False) -> FileRecord | None:
        rows = self._query("SELECT * FROM files WHERE id = ? AND organization_id = ?", (file_id, organization_id))
        if not rows or (rows[0]["deleted"] and not include_deleted):
            return None
        return file_record(rows[0])

    def get_files(self, file_ids: Iterable[str]) -> list[FileRecord]:
        wanted = list(file_ids)
        if not wanted:
            return []
        marks = ",".join("?" * len(wanted))
        found = {
            row["id"]: file_record(row) for row in self._query(f"SELECT * FROM files WHERE id IN ({marks})", wanted)
        }
        return [found[file_id] for file_id in wanted if file_id in found]

    def list_files(self, organization_id: str, *, include_deleted: bool = False) -> list[FileRecord]:
        """The organisation's files in upload order (deleted ones too when asked: a page cursor may name one)."""
        shown = "" if include_deleted else " AND deleted = 0"
        rows = self._query(f"SELECT * FROM files WHERE organization_id = ?{shown} ORDER BY seq", (organization_id,))
        return [file_record(row) for row in rows]

    def live_file_ids(self) -> set[str]:
        """Every organisation's files that are not deleted: the blobs the blob store must keep."""
        return {row["id"] for row in self._query("SELECT id FROM files WHERE deleted = 0")}

    def stored_bytes(self, organization_id: str) -> int:
        rows = self._query(
            "SELECT COALESCE(SUM(bytes), 0) AS total FROM files WHERE organization_id = ? AND deleted = 0",
            (organization_id,),
        )
        return int(rows[0]["total"])

    def set_file_status(self, file_id: str, status: str) -> None:
        self._execute("UPDATE files SET status = ? WHERE id = ?", (status, file_id))

    def process_uploaded_files(self, organization_id: str) -> None:
        """Uploaded files finish processing the next time anyone looks (validation already happened)."""
        self._execute(
            "UPDATE files SET status = 'processed' WHERE organization_id = ? AND status = 'uploaded'",
            (organization_id,),
        )

    def delete_file(self, file_id: str) -> None:
        self._execute("UPDATE files SET deleted = 1, status = 'deleted' WHERE id = ?", (file_id,))
