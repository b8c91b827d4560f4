"""The legacy fine-tunes tables: jobs, their events and the examples they learned."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from typing import Any, Unpack

from emulator.store.db import Database
from emulator.store.records import (
    FINE_TUNE_COLUMNS,
    JSON_COLUMNS,
    LISTED_FINE_TUNE_COLUMNS,
    EventRecord,
    FineTuneChanges,
    FineTuneRecord,
    NewFineTune,
    fine_tune_record,
)


class FineTunesTable(Database):
    """Legacy jobs (`ft-` ids), their events in order, and the (prompt, completion) pairs each one learned."""

    def insert_fine_tune(self, job: NewFineTune) -> None:
        row = {k: json.dumps(v) if k in JSON_COLUMNS else v for k, v in dataclasses.asdict(job).items()}
        columns = ", ".join(row)
        marks = ", ".join("?" * len(row))
        self._execute(f"INSERT INTO fine_tunes ({columns}) VALUES ({marks})", list(row.values()))

    def get_fine_tune(self, organization_id: str, fine_tune_id: str) -> FineTuneRecord | None:
        rows = self._query(
            f"SELECT {FINE_TUNE_COLUMNS} FROM fine_tunes WHERE id = ? AND organization_id = ?",
            (fine_tune_id, organization_id),
        )
        return fine_tune_record(rows[0]) if rows else None

    def list_fine_tunes(self, organization_id: str, *, active_only: bool = False) -> list[FineTuneRecord]:
        sql = f"SELECT {FINE_TUNE_COLUMNS} FROM fine_tunes WHERE organization_id = ?"
        if active_only:
            sql += " AND status IN ('pending', 'running')"
        rows = self._query(sql + " ORDER BY seq", (organization_id,))
        return [fine_tune_record(row) for row in rows]

    def list_fine_tune_rows(self, organization_id: str) -> list[tuple[Any, ...]]:
        """The organisation's jobs as raw rows of LISTED_FINE_TUNE_COLUMNS (no plan), oldest first."""
        return self._tuples(
            f"SELECT {LISTED_FINE_TUNE_COLUMNS} FROM fine_tunes WHERE organization_id = ? ORDER BY seq",
            (organization_id,),
        )

    def has_active_fine_tunes(self, organization_id: str) -> bool:
        rows = self._query(
            "SELECT 1 FROM fine_tunes WHERE organization_id = ? AND status IN ('pending', 'running') LIMIT 1",
            (organization_id,),
        )
        return bool(rows)

    def find_fine_tune(self, fine_tune_id: str) -> FineTuneRecord | None:
        """A job by id whatever its organisation (for the test-control plane only)."""
        rows = self._query(f"SELECT {FINE_TUNE_COLUMNS} FROM fine_tunes WHERE id = ?", (fine_tune_id,))
        return fine_tune_record(rows[0]) if rows else None

    def last_slot_release(self, organization_id: str) -> float:
        """When a training slot was last given back (0 if never)."""
        rows = self._query(
            "SELECT COALESCE(MAX(finished_at), 0) AS t FROM fine_tunes WHERE organization_id = ?"
            " AND started_at IS NOT NULL AND finished_at IS NOT NULL",
            (organization_id,),
        )
        return float(rows[0]["t"])

    def update_fine_tune(self, fine_tune_id: str, **changes: Unpack[FineTuneChanges]) -> None:
        row = {k: json.dumps(v) if k in JSON_COLUMNS else v for k, v in changes.items()}
        assignments = ", ".join(f"{column} = ?" for column in row)
        self._execute(f"UPDATE fine_tunes SET {assignments} WHERE id = ?", [*row.values(), fine_tune_id])

    def add_event(self, fine_tune_id: str, message: str, created_at: int, level: str = "info") -> None:
        self._execute(
            "INSERT INTO fine_tune_events (fine_tune_id, level, message, created_at) VALUES (?, ?, ?, ?)",
            (fine_tune_id, level, message, created_at),
        )

    def add_events(self, fine_tune_id: str, messages: list[str], created_at: int, level: str = "info") -> None:
        """Several events of one moment, in order, in one statement."""
        with self.transaction():
            self._db.executemany(
                "INSERT INTO fine_tune_events (fine_tune_id, level, message, created_at) VALUES (?, ?, ?, ?)",
                [(fine_tune_id, level, message, created_at) for message in messages],
            )

    def list_events(self, fine_tune_id: str, after_seq: int = 0) -> list[EventRecord]:
        rows = self._query(
            "SELECT * FROM fine_tune_events WHERE fine_tune_id = ? AND seq > ? ORDER BY seq",
            (fine_tune_id, after_seq),
        )
        return [EventRecord(**dict(row)) for row in rows]

    def insert_fine_tune_examples(
        self, fine_tune_id: str, examples: Iterable[tuple[str, str]], *, start: int = 0
    ) -> None:
        """The training examples a job learns, kept with the job so deleting the file loses nothing.

        `start` is the position of the first one: a big file goes in as several short transactions, so no
        other request waits long for the store.
        """
        with self.transaction():
            self._db.executemany(
                "INSERT INTO fine_tune_examples (fine_tune_id, position, prompt, completion) VALUES (?, ?, ?, ?)",
                (
                    (fine_tune_id, position, prompt, completion)
                    for position, (prompt, completion) in enumerate(examples, start)
                ),
            )

    def set_token_counts(self, fine_tune_id: str, counts: str) -> None:
        """A job's per-example token counts, packed (kept out of its plan: see migration 005)."""
        self._execute(
            "INSERT INTO fine_tune_token_counts (fine_tune_id, counts) VALUES (?, ?)"
            " ON CONFLICT(fine_tune_id) DO UPDATE SET counts = excluded.counts",
            (fine_tune_id, counts),
        )

    def get_token_counts(self, fine_tune_id: str) -> str | None:
        rows = self._query("SELECT counts FROM fine_tune_token_counts WHERE fine_tune_id = ?", (fine_tune_id,))
        return str(rows[0]["counts"]) if rows else None

    def delete_fine_tune_examples(self, fine_tune_id: str) -> None:
        """Forget a job's examples (a preparation cut short by a restart starts again)."""
        self._execute("DELETE FROM fine_tune_examples WHERE fine_tune_id = ?", (fine_tune_id,))

    def list_fine_tune_examples(self, fine_tune_id: str) -> list[tuple[str, str]]:
        rows = self._query(
            "SELECT prompt, completion FROM fine_tune_examples WHERE fine_tune_id = ? ORDER BY position",
            (fine_tune_id,),
        )
        return [(row["prompt"], row["completion"]) for row in rows]
