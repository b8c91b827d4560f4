"""The files table: uploaded and result files (their bytes live in the blob store)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from emulator.store.db import Database
from emulator.store.records import FILE_COLUMNS, FileRecord, file_record

# Under SQLite's limit of bound parameters.
IDS_PER_QUERY = 900


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

    def get_file_rows(self, file_ids: list[str]) -> list[tuple[Any, ...]]:
        """Raw rows of FILE_COLUMNS of these files (deleted ones too), in no particular order."""
        rows = []
        for start in range(0, len(file_ids), IDS_PER_QUERY):
            wanted = file_ids[start : start + IDS_PER_QUERY]
            marks = ",".join("?" * len(wanted))
            rows += self._tuples(f"SELECT {FILE_COLUMNS} FROM files WHERE id IN ({marks})", wanted)
        return rows

    def page_file_rows(
        self, organization_id: str, *, after: str | None, limit: int, order: Literal["asc", "desc"], purpose: str | None
    ) -> list[tuple[Any, ...]] | None:
        """Up to `limit` live files as raw rows of FILE_COLUMNS, in upload order or newest first.

        `after`: only files after that one in the asked order (it may be deleted since); None when the
        organisation never had it.
        """
        sql, values = f"SELECT {FILE_COLUMNS} FROM files WHERE organization_id = ? AND deleted = 0", [organization_id]
        if purpose is not None:
            sql += " AND purpose = ?"
            values.append(purpose)
        if after is not None:
            found = self._tuples("SELECT seq FROM files WHERE id = ? AND organization_id = ?", [after, organization_id])
            if not found:
                return None
            sql += " AND seq > ?" if order == "asc" else " AND seq < ?"
            values.append(found[0][0])
        return self._tuples(sql + f" ORDER BY seq {order.upper()} LIMIT ?", [*values, limit])

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
