"""All SQL: typed functions per table over one SQLite connection (WAL, foreign keys on)."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emulator import ids
from emulator.migrations import apply_migrations

ACTIVE_STATUSES = ("pending", "running")


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
    fine_tune_id: str
    permission_id: str
    deleted: bool


_JSON_COLUMNS = ("hyperparams", "training_file_ids", "validation_file_ids", "result_file_ids", "plan")
_FINE_TUNE_COLUMNS = (
    "seq, id, organization_id, model, base_model, suffix, hyperparams, training_file_ids, validation_file_ids, "
    "result_file_ids, created_at, updated_at, status, fine_tuned_model, plan, stage, queue_number, queued_at, "
    "started_at, finished_at"
)


def _file(row: sqlite3.Row) -> FileRecord:
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


def _fine_tune(row: sqlite3.Row) -> FineTuneRecord:
    values = dict(row)
    for column in _JSON_COLUMNS:
        values[column] = json.loads(values[column])
    return FineTuneRecord(**values)


def _model(row: sqlite3.Row) -> ModelRecord:
    values = dict(row)
    values["deleted"] = bool(values["deleted"])
    return ModelRecord(**values)


class Store:
    """The emulator's persistent state. One instance per app; safe to call from several threads."""

    def __init__(self, path: Path | None, *, seed: int | None = None) -> None:
        self.path = path
        target = ":memory:" if path is None else str(path)
        self._db = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._db.execute("PRAGMA foreign_keys = ON")
        if path is not None:
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
        apply_migrations(self._db)
        self.seed = self._settle_seed(seed)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Everything inside commits together or not at all."""
        with self._lock:
            if self._db.in_transaction:
                yield
                return
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.rollback()
                raise
            self._db.commit()

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self.transaction():
            self._db.execute(sql, params)

    # meta -------------------------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        rows = self._query("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0]["value"] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        self._execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = ?",
            (key, value, value),
        )

    def _settle_seed(self, seed: int | None) -> int:
        stored = self.get_meta("seed")
        if seed is None:
            if stored is not None:
                return int(stored)
            import secrets

            seed = secrets.randbits(63)
        self.set_meta("seed", str(seed))
        return seed

    def next_id(self, prefix: str, *, lower: bool = False) -> str:
        """A fresh id: the seed's next draw; the counter is stored so restarts never repeat one."""
        with self.transaction():
            counter = int(self.get_meta("id_counter") or 0) + 1
            self.set_meta("id_counter", str(counter))
        make = ids.make_lower_id if lower else ids.make_id
        return make(prefix, self.seed, counter)

    # organizations ----------------------------------------------------------------------------------------

    def ensure_organization(self, name: str, created_at: int) -> Organization:
        rows = self._query("SELECT * FROM organizations WHERE name = ?", (name,))
        if rows:
            return Organization(**dict(rows[0]))
        with self.transaction():
            org = Organization(self.next_id("org-"), name, created_at)
            self._db.execute(
                "INSERT INTO organizations (id, name, created_at) VALUES (?, ?, ?)",
                (org.id, org.name, org.created_at),
            )
        return org

    def list_organizations(self) -> list[Organization]:
        return [Organization(**dict(row)) for row in self._query("SELECT * FROM organizations ORDER BY name")]

    # files ------------------------------------------------------------------------------------------------

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
        return _file(rows[0])

    def get_files(self, file_ids: Iterable[str]) -> list[FileRecord]:
        wanted = list(file_ids)
        if not wanted:
            return []
        marks = ",".join("?" * len(wanted))
        found = {row["id"]: _file(row) for row in self._query(f"SELECT * FROM files WHERE id IN ({marks})", wanted)}
        return [found[file_id] for file_id in wanted if file_id in found]

    def list_files(self, organization_id: str) -> list[FileRecord]:
        rows = self._query(
            "SELECT * FROM files WHERE organization_id = ? AND deleted = 0 ORDER BY seq", (organization_id,)
        )
        return [_file(row) for row in rows]

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

    # fine-tunes -------------------------------------------------------------------------------------------

    def insert_fine_tune(self, values: dict[str, Any]) -> None:
        row = {k: json.dumps(v) if k in _JSON_COLUMNS else v for k, v in values.items()}
        columns = ", ".join(row)
        marks = ", ".join("?" * len(row))
        self._execute(f"INSERT INTO fine_tunes ({columns}) VALUES ({marks})", list(row.values()))

    def get_fine_tune(self, organization_id: str, fine_tune_id: str) -> FineTuneRecord | None:
        rows = self._query(
            f"SELECT {_FINE_TUNE_COLUMNS} FROM fine_tunes WHERE id = ? AND organization_id = ?",
            (fine_tune_id, organization_id),
        )
        return _fine_tune(rows[0]) if rows else None

    def list_fine_tunes(self, organization_id: str, *, active_only: bool = False) -> list[FineTuneRecord]:
        sql = f"SELECT {_FINE_TUNE_COLUMNS} FROM fine_tunes WHERE organization_id = ?"
        if active_only:
            sql += " AND status IN ('pending', 'running')"
        rows = self._query(sql + " ORDER BY seq", (organization_id,))
        return [_fine_tune(row) for row in rows]

    def has_active_fine_tunes(self, organization_id: str) -> bool:
        rows = self._query(
            "SELECT 1 FROM fine_tunes WHERE organization_id = ? AND status IN ('pending', 'running') LIMIT 1",
            (organization_id,),
        )
        return bool(rows)

    def find_fine_tune(self, fine_tune_id: str) -> FineTuneRecord | None:
        """A job by id whatever its organisation (for the test-control plane only)."""
        rows = self._query(f"SELECT {_FINE_TUNE_COLUMNS} FROM fine_tunes WHERE id = ?", (fine_tune_id,))
        return _fine_tune(rows[0]) if rows else None

    def get_organization(self, organization_id: str) -> Organization | None:
        rows = self._query("SELECT * FROM organizations WHERE id = ?", (organization_id,))
        return Organization(**dict(rows[0])) if rows else None

    def last_slot_release(self, organization_id: str) -> float:
        """When a training slot was last given back (0 if never)."""
        rows = self._query(
            "SELECT COALESCE(MAX(finished_at), 0) AS t FROM fine_tunes WHERE organization_id = ?"
            " AND started_at IS NOT NULL AND finished_at IS NOT NULL",
            (organization_id,),
        )
        return float(rows[0]["t"])

    def update_fine_tune(self, fine_tune_id: str, **changes: Any) -> None:
        row = {k: json.dumps(v) if k in _JSON_COLUMNS else v for k, v in changes.items()}
        assignments = ", ".join(f"{column} = ?" for column in row)
        self._execute(f"UPDATE fine_tunes SET {assignments} WHERE id = ?", [*row.values(), fine_tune_id])

    def add_event(self, fine_tune_id: str, message: str, created_at: int, level: str = "info") -> None:
        self._execute(
            "INSERT INTO fine_tune_events (fine_tune_id, level, message, created_at) VALUES (?, ?, ?, ?)",
            (fine_tune_id, level, message, created_at),
        )

    def list_events(self, fine_tune_id: str, after_seq: int = 0) -> list[EventRecord]:
        rows = self._query(
            "SELECT * FROM fine_tune_events WHERE fine_tune_id = ? AND seq > ? ORDER BY seq",
            (fine_tune_id, after_seq),
        )
        return [EventRecord(**dict(row)) for row in rows]

    # models -----------------------------------------------------------------------------------------------

    def insert_model(self, record: ModelRecord) -> None:
        self._execute(
            "INSERT INTO models (id, organization_id, created, root, parent, fine_tune_id, permission_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                record.id,
                record.organization_id,
                record.created,
                record.root,
                record.parent,
                record.fine_tune_id,
                record.permission_id,
            ),
        )

    def get_model(self, organization_id: str, model_id: str) -> ModelRecord | None:
        rows = self._query(
            "SELECT id, organization_id, created, root, parent, fine_tune_id, permission_id, deleted"
            " FROM models WHERE id = ? AND organization_id = ? AND deleted = 0",
            (model_id, organization_id),
        )
        return _model(rows[0]) if rows else None

    def get_model_including_deleted(self, organization_id: str, model_id: str) -> ModelRecord | None:
        """A model row even if it was deleted since (a retrained model still knows its parent's examples)."""
        rows = self._query(
            "SELECT id, organization_id, created, root, parent, fine_tune_id, permission_id, deleted"
            " FROM models WHERE id = ? AND organization_id = ?",
            (model_id, organization_id),
        )
        return _model(rows[0]) if rows else None

    def list_models(self, organization_id: str) -> list[ModelRecord]:
        rows = self._query(
            "SELECT id, organization_id, created, root, parent, fine_tune_id, permission_id, deleted"
            " FROM models WHERE organization_id = ? AND deleted = 0 ORDER BY seq",
            (organization_id,),
        )
        return [_model(row) for row in rows]

    def model_name_taken(self, model_id: str) -> bool:
        return bool(self._query("SELECT 1 FROM models WHERE id = ?", (model_id,)))

    def delete_model(self, model_id: str) -> None:
        self._execute("UPDATE models SET deleted = 1 WHERE id = ?", (model_id,))

    def insert_fine_tune_examples(self, fine_tune_id: str, examples: Iterable[tuple[str, str]]) -> None:
        """The training examples a job learns, kept with the job so deleting the file loses nothing."""
        with self.transaction():
            self._db.executemany(
                "INSERT INTO fine_tune_examples (fine_tune_id, position, prompt, completion) VALUES (?, ?, ?, ?)",
                (
                    (fine_tune_id, position, prompt, completion)
                    for position, (prompt, completion) in enumerate(examples)
                ),
            )

    def list_fine_tune_examples(self, fine_tune_id: str) -> list[tuple[str, str]]:
        rows = self._query(
            "SELECT prompt, completion FROM fine_tune_examples WHERE fine_tune_id = ? ORDER BY position",
            (fine_tune_id,),
        )
        return [(row["prompt"], row["completion"]) for row in rows]

    # the whole store --------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every object (organisations and the seed stay, so ids keep their shape)."""
        with self.transaction():
            for table in ("fine_tune_examples", "models", "fine_tune_events", "fine_tunes", "files"):
                self._db.execute(f"DELETE FROM {table}")
