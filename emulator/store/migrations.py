"""Named, ordered, append-only schema migrations. A shipped migration is never edited: add a new one."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

Migration = tuple[str, Callable[[sqlite3.Connection], None]]


def m001_initial(db: sqlite3.Connection) -> None:
    db.executescript(
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

        CREATE TABLE organizations (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            created_at INTEGER NOT NULL
        );

        CREATE TABLE files (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            organization_id TEXT NOT NULL REFERENCES organizations(id),
            purpose TEXT NOT NULL,
            filename TEXT NOT NULL,
            bytes INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            status TEXT NOT NULL,
            status_details TEXT,
            deleted INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX files_by_organization ON files (organization_id, deleted, seq);

        CREATE TABLE fine_tunes (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            organization_id TEXT NOT NULL REFERENCES organizations(id),
            model TEXT NOT NULL,
            base_model TEXT NOT NULL,
            suffix TEXT,
            hyperparams TEXT NOT NULL,
            training_file_ids TEXT NOT NULL,
            validation_file_ids TEXT NOT NULL,
            result_file_ids TEXT NOT NULL DEFAULT '[]',
            created_at REAL NOT NULL,
            updated_at INTEGER NOT NULL,
            status TEXT NOT NULL,
            fine_tuned_model TEXT,
            plan TEXT NOT NULL,
            stage INTEGER NOT NULL DEFAULT 0,
            queue_number INTEGER,
            queued_at REAL,
            started_at REAL,
            finished_at REAL
        );
        CREATE INDEX fine_tunes_by_organization ON fine_tunes (organization_id, status, seq);

        CREATE TABLE fine_tune_events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            fine_tune_id TEXT NOT NULL REFERENCES fine_tunes(id),
            level TEXT NOT NULL,
            message TEXT NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE INDEX events_by_fine_tune ON fine_tune_events (fine_tune_id, seq);

        CREATE TABLE models (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            organization_id TEXT NOT NULL REFERENCES organizations(id),
            created INTEGER NOT NULL,
            root TEXT NOT NULL,
            parent TEXT NOT NULL,
            fine_tune_id TEXT NOT NULL REFERENCES fine_tunes(id),
            permission_id TEXT NOT NULL,
            deleted INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX models_by_organization ON models (organization_id, deleted, seq);

        CREATE TABLE fine_tune_examples (
            fine_tune_id TEXT NOT NULL REFERENCES fine_tunes(id),
            position INTEGER NOT NULL,
            prompt TEXT NOT NULL,
            completion TEXT NOT NULL,
            PRIMARY KEY (fine_tune_id, position)
        );
        """
    )


def m002_models_of_both_generations(db: sqlite3.Connection) -> None:
    """A model's job may be a legacy fine-tune or a fine-tuning job (no foreign key to one table); checkpoints
    are models with their step; the examples a chat-format job learned are kept with the job."""
    db.executescript(
        """
        CREATE TABLE models_v2 (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            organization_id TEXT NOT NULL REFERENCES organizations(id),
            created INTEGER NOT NULL,
            root TEXT NOT NULL,
            parent TEXT NOT NULL,
            fine_tune_id TEXT NOT NULL,
            permission_id TEXT NOT NULL,
            deleted INTEGER NOT NULL DEFAULT 0,
            checkpoint_step INTEGER
        );
        INSERT INTO models_v2 (seq, id, organization_id, created, root, parent, fine_tune_id, permission_id, deleted)
            SELECT seq, id, organization_id, created, root, parent, fine_tune_id, permission_id, deleted FROM models;
        DROP TABLE models;
        ALTER TABLE models_v2 RENAME TO models;
        CREATE INDEX models_by_organization ON models (organization_id, deleted, seq);
        CREATE INDEX models_by_job ON models (fine_tune_id);

        CREATE TABLE chat_examples (
            job_id TEXT NOT NULL,
            position INTEGER NOT NULL,
            messages TEXT NOT NULL,
            reply TEXT NOT NULL,
            tools TEXT,
            PRIMARY KEY (job_id, position)
        );
        """
    )


def m003_fine_tuning_jobs(db: sqlite3.Connection) -> None:
    """The modern API: fine-tuning jobs, their events (newest first by seq), checkpoints and their permissions,
    and uploads with their parts."""
    db.executescript(
        """
        CREATE TABLE fine_tuning_jobs (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            organization_id TEXT NOT NULL REFERENCES organizations(id),
            model TEXT NOT NULL,
            base_model TEXT NOT NULL,
            training_file TEXT NOT NULL,
            validation_file TEXT,
            suffix TEXT,
            seed INTEGER NOT NULL,
            method TEXT NOT NULL,
            metadata TEXT,
            integrations TEXT NOT NULL,
            created_at REAL NOT NULL,
            status TEXT NOT NULL,
            error TEXT,
            fine_tuned_model TEXT,
            result_files TEXT NOT NULL DEFAULT '[]',
            trained_tokens INTEGER,
            plan TEXT NOT NULL,
            stage INTEGER NOT NULL DEFAULT 0,
            queued_at REAL,
            started_at REAL,
            finished_at REAL,
            paused_at REAL,
            paused_total REAL NOT NULL DEFAULT 0
        );
        CREATE INDEX fine_tuning_jobs_by_organization ON fine_tuning_jobs (organization_id, status, seq);

        CREATE TABLE fine_tuning_job_events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            job_id TEXT NOT NULL REFERENCES fine_tuning_jobs(id),
            created_at INTEGER NOT NULL,
            level TEXT NOT NULL,
            message TEXT NOT NULL,
            data TEXT,
            type TEXT NOT NULL
        );
        CREATE INDEX fine_tuning_job_events_by_job ON fine_tuning_job_events (job_id, seq);

        CREATE TABLE fine_tuning_checkpoints (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            job_id TEXT NOT NULL REFERENCES fine_tuning_jobs(id),
            created_at INTEGER NOT NULL,
            fine_tuned_model_checkpoint TEXT NOT NULL UNIQUE,
            step_number INTEGER NOT NULL,
            metrics TEXT NOT NULL,
            deleted INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX fine_tuning_checkpoints_by_job ON fine_tuning_checkpoints (job_id, deleted, seq);

        CREATE TABLE checkpoint_permissions (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            checkpoint_model TEXT NOT NULL,
            project_id TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            deleted INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX checkpoint_permissions_by_model ON checkpoint_permissions (checkpoint_model, deleted, seq);

        CREATE TABLE uploads (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            organization_id TEXT NOT NULL REFERENCES organizations(id),
            filename TEXT NOT NULL,
            purpose TEXT NOT NULL,
            bytes INTEGER NOT NULL,
            mime_type TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            status TEXT NOT NULL,
            file_id TEXT
        );

        CREATE TABLE upload_parts (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            upload_id TEXT NOT NULL REFERENCES uploads(id),
            created_at INTEGER NOT NULL,
            bytes INTEGER NOT NULL
        );
        """
    )


def m005_fine_tune_token_counts(db: sqlite3.Connection) -> None:
    """A legacy job's per-example token counts, packed, beside the job rather than in its plan: the plan is read
    and the job row rewritten at every transition, and 100,000 counts made each of those a 0.5 MB copy."""
    db.executescript(
        """
        CREATE TABLE fine_tune_token_counts (
            fine_tune_id TEXT PRIMARY KEY REFERENCES fine_tunes(id) ON DELETE CASCADE,
            counts TEXT NOT NULL
        );
        """
    )


MIGRATIONS: list[Migration] = [
    ("001_initial", m001_initial),
    ("002_models_of_both_generations", m002_models_of_both_generations),
    ("003_fine_tuning_jobs", m003_fine_tuning_jobs),
    ("005_fine_tune_token_counts", m005_fine_tune_token_counts),
]


def apply_migrations(db: sqlite3.Connection) -> list[str]:
    """Apply every migration not yet recorded; return the names applied now."""
    db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    done = {row[0] for row in db.execute("SELECT name FROM _migrations")}
    applied = []
    for name, migrate in MIGRATIONS:
        if name in done:
            continue
        with db:
            migrate(db)
            db.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, datetime('now'))", (name,))
        applied.append(name)
    return applied
