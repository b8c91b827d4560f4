"""Migrations: a blank database gets every one; a database made at the first migration, with rows, is upgraded."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from emulator.store import ChatExample, ModelRecord, Store
from emulator.store.migrations import MIGRATIONS, apply_migrations, m001_initial


def test_apply_migrations_on_a_blank_database() -> None:
    db = sqlite3.connect(":memory:")
    assert apply_migrations(db) == [name for name, _ in MIGRATIONS]
    assert apply_migrations(db) == []


def test_migration_names_are_ordered_and_unique() -> None:
    names = [name for name, _ in MIGRATIONS]
    assert names == sorted(names) and len(set(names)) == len(names)
    assert all(name[:3].isdigit() for name in names)


def _database_at_m001(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    m001_initial(db)
    db.execute("INSERT INTO _migrations VALUES ('001_initial', datetime('now'))")
    db.execute("INSERT INTO meta VALUES ('seed', '7')")
    db.execute("INSERT INTO organizations VALUES ('org-1', 'personal', 1)")
    db.execute(
        "INSERT INTO fine_tunes (id, organization_id, model, base_model, hyperparams, training_file_ids,"
        " validation_file_ids, created_at, updated_at, status, plan)"
        " VALUES ('ft-1', 'org-1', 'curie', 'curie', '{}', '[]', '[]', 1, 1, 'succeeded', '{}')"
    )
    db.execute(
        "INSERT INTO models (id, organization_id, created, root, parent, fine_tune_id, permission_id)"
        " VALUES ('curie:ft-personal-2023-05-23-08-11-48', 'org-1', 5, 'curie', 'curie', 'ft-1', 'snapperm-1')"
    )
    db.commit()
    db.close()


def test_a_database_made_at_m001_with_rows_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "ftemu.sqlite3"
    _database_at_m001(path)
    store = Store(path)
    try:
        assert store.seed == 7
        model = store.get_model("org-1", "curie:ft-personal-2023-05-23-08-11-48")
        assert model == ModelRecord(
            "curie:ft-personal-2023-05-23-08-11-48", "org-1", 5, "curie", "curie", "ft-1", "snapperm-1", False, None
        )
        # After 002 a model may belong to a fine-tuning job (no foreign key to the legacy table).
        store.insert_model(
            ModelRecord(
                "ft:gpt-4o-mini-2024-07-18:personal::AbC123xy",
                "org-1",
                9,
                "gpt-4o-mini-2024-07-18",
                "gpt-4o-mini-2024-07-18",
                "ftjob-1",
                "p",
                False,
                30,
            )
        )
        assert [m.checkpoint_step for m in store.list_job_models("ftjob-1")] == [30]
        store.insert_chat_examples(
            "ftjob-1", [ChatExample([{"role": "user", "content": "hi"}], {"role": "assistant", "content": "yo"})]
        )
        assert store.list_chat_examples("ftjob-1")[0].reply == {"role": "assistant", "content": "yo"}
    finally:
        store.close()


def test_reset_forgets_every_object_but_keeps_organisations_and_seed() -> None:
    store = Store(None, seed=3)
    org = store.ensure_organization("personal", 1)
    store.insert_chat_examples("ftjob-1", [ChatExample([], {"role": "assistant", "content": "x"})])
    store.reset()
    assert store.list_chat_examples("ftjob-1") == []
    assert store.list_organizations() == [org] and store.seed == 3
