"""The uploads tables: large files sent in parts (`upload_` and `part_` ids); the bytes live in the blob store."""

from __future__ import annotations

from emulator.store.db import Database
from emulator.store.job_records import UploadPartRecord, UploadRecord

UPLOAD_COLUMNS = "id, organization_id, filename, purpose, bytes, mime_type, created_at, expires_at, status, file_id"


class UploadsTable(Database):
    """Uploads by organisation and their parts in arrival order."""

    def insert_upload(self, upload: UploadRecord) -> None:
        self._execute(
            f"INSERT INTO uploads ({UPLOAD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                upload.id,
                upload.organization_id,
                upload.filename,
                upload.purpose,
                upload.bytes,
                upload.mime_type,
                upload.created_at,
                upload.expires_at,
                upload.status,
                upload.file_id,
            ),
        )

    def get_upload(self, organization_id: str, upload_id: str) -> UploadRecord | None:
        rows = self._query(
            f"SELECT {UPLOAD_COLUMNS} FROM uploads WHERE id = ? AND organization_id = ?", (upload_id, organization_id)
        )
        return UploadRecord(**dict(rows[0])) if rows else None

    def set_upload_status(self, upload_id: str, status: str, file_id: str | None = None) -> None:
        self._execute("UPDATE uploads SET status = ?, file_id = ? WHERE id = ?", (status, file_id, upload_id))

    def insert_upload_part(self, part: UploadPartRecord) -> None:
        self._execute(
            "INSERT INTO upload_parts (id, upload_id, created_at, bytes) VALUES (?, ?, ?, ?)",
            (part.id, part.upload_id, part.created_at, part.bytes),
        )

    def list_upload_parts(self, upload_id: str) -> list[UploadPartRecord]:
        rows = self._query(
            "SELECT id, upload_id, created_at, bytes FROM upload_parts WHERE upload_id = ? ORDER BY seq", (upload_id,)
        )
        return [UploadPartRecord(**dict(row)) for row in rows]
