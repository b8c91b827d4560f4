"""The fine-tuning jobs tables: modern jobs (`ftjob-` ids) and their events (`ftevent-` ids)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Unpack

from emulator.store.db import Database
from emulator.store.job_records import (
    JOB_JSON_COLUMNS,
    FineTuningJobChanges,
    FineTuningJobRecord,
    JobEventRecord,
    NewFineTuningJob,
    NewJobEvent,
    job_event_record,
    job_record,
)

ACTIVE = "('validating_files', 'queued', 'running', 'paused')"


def _encoded(values: dict[str, Any]) -> dict[str, Any]:
    return {k: json.dumps(v) if k in JOB_JSON_COLUMNS and v is not None else v for k, v in values.items()}


class FineTuningJobsTable(Database):
    """Jobs by organisation in creation order; events in emission order (the API shows them newest first)."""

    def insert_fine_tuning_job(self, job: NewFineTuningJob) -> None:
        row = _encoded(dataclasses.asdict(job))
        marks = ", ".join("?" * len(row))
        self._execute(f"INSERT INTO fine_tuning_jobs ({', '.join(row)}) VALUES ({marks})", list(row.values()))

    def get_fine_tuning_job(self, organization_id: str, job_id: str) -> FineTuningJobRecord | None:
        rows = self._query(
            "SELECT * FROM fine_tuning_jobs WHERE id = ? AND organization_id = ?", (job_id, organization_id)
        )
        return job_record(rows[0]) if rows else None

    def find_fine_tuning_job(self, job_id: str) -> FineTuningJobRecord | None:
        """A job by id whatever its organisation (models and the test-control plane)."""
        rows = self._query("SELECT * FROM fine_tuning_jobs WHERE id = ?", (job_id,))
        return job_record(rows[0]) if rows else None

    def fine_tuning_base_models(self) -> list[str]:
        """Every snapshot a stored job tunes (what a restarted server loads the tokenizers of ahead)."""
        return [str(row[0]) for row in self._query("SELECT DISTINCT base_model FROM fine_tuning_jobs")]

    def list_fine_tuning_jobs(self, organization_id: str, *, active_only: bool = False) -> list[FineTuningJobRecord]:
        """Oldest first."""
        sql = "SELECT * FROM fine_tuning_jobs WHERE organization_id = ?"
        if active_only:
            sql += f" AND status IN {ACTIVE}"
        return [job_record(row) for row in self._query(sql + " ORDER BY seq", (organization_id,))]

    def list_fine_tuning_job_metadata(self, organization_id: str) -> list[tuple[Any, ...]]:
        """Newest first: each job's id and its metadata as stored (JSON text or None): what a list pages by."""
        return self._tuples(
            "SELECT id, metadata FROM fine_tuning_jobs WHERE organization_id = ? ORDER BY seq DESC", (organization_id,)
        )

    def get_fine_tuning_jobs(self, organization_id: str, job_ids: list[str]) -> list[FineTuningJobRecord]:
        """These jobs of the organisation, in the order given (at most a page: under SQLite's parameter limit)."""
        if not job_ids:
            return []
        marks = ",".join("?" * len(job_ids))
        rows = self._query(
            f"SELECT * FROM fine_tuning_jobs WHERE organization_id = ? AND id IN ({marks})", [organization_id, *job_ids]
        )
        found = {row["id"]: job_record(row) for row in rows}
        return [found[job_id] for job_id in job_ids if job_id in found]

    def fine_tuning_job_seq(self, organization_id: str, job_id: str) -> int | None:
        rows = self._query(
            "SELECT seq FROM fine_tuning_jobs WHERE id = ? AND organization_id = ?", (job_id, organization_id)
        )
        return int(rows[0]["seq"]) if rows else None

    def fine_tuning_slot_release(self, organization_id: str) -> float:
        """When a fine-tuning job last gave its training slot back (0 if never)."""
        rows = self._query(
            "SELECT COALESCE(MAX(finished_at), 0) AS t FROM fine_tuning_jobs WHERE organization_id = ?"
            " AND started_at IS NOT NULL AND finished_at IS NOT NULL",
            (organization_id,),
        )
        return float(rows[0]["t"])

    def update_fine_tuning_job(self, job_id: str, **changes: Unpack[FineTuningJobChanges]) -> None:
        row = _encoded(dict(changes))
        assignments = ", ".join(f"{column} = ?" for column in row)
        self._execute(f"UPDATE fine_tuning_jobs SET {assignments} WHERE id = ?", [*row.values(), job_id])

    # events -----------------------------------------------------------------------------------------------

    def add_job_event(
        self,
        job_id: str,
        message: str,
        created_at: int,
        *,
        level: str = "info",
        data: dict[str, Any] | None,
        type: str = "message",
    ) -> None:
        event_id = self.next_id("ftevent-")
        self._execute(
            "INSERT INTO fine_tuning_job_events (id, job_id, created_at, level, message, data, type)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (event_id, job_id, created_at, level, message, None if data is None else json.dumps(data), type),
        )

    def add_job_events(self, job_id: str, events: list[NewJobEvent]) -> None:
        """Many events of one job at once, in order (a run's steps at instant speed)."""
        event_ids = self.next_ids("ftevent-", len(events))
        rows = [
            (event_id, job_id, e.created_at, e.level, e.message, None if e.data is None else json.dumps(e.data), e.type)
            for event_id, e in zip(event_ids, events, strict=True)
        ]
        with self.transaction():
            self._db.executemany(
                "INSERT INTO fine_tuning_job_events (id, job_id, created_at, level, message, data, type)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    def list_job_events(
        self, job_id: str, *, after: str | None = None, limit: int | None = None
    ) -> list[JobEventRecord]:
        """Newest first; `after` an event id: only the events older than it."""
        sql, values = "SELECT * FROM fine_tuning_job_events WHERE job_id = ?", [job_id]
        if after is not None:
            # An unknown cursor is ignored (every event), as the jobs list ignores one.
            sql += (
                " AND seq < COALESCE((SELECT seq FROM fine_tuning_job_events WHERE id = ? AND job_id = ?),"
                f" {2**63 - 1})"
            )
            values += [after, job_id]
        sql += " ORDER BY seq DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [job_event_record(row) for row in self._query(sql, values)]
