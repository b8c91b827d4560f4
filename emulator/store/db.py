"""The store's connection: SQLite (WAL, foreign keys on), transactions, meta values, the seed and fresh ids."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from emulator.core import ids
from emulator.store.migrations import apply_migrations

# Tables a reset keeps: the schema's own bookkeeping, the seed and counter, and who the organisations are.
KEPT_ON_RESET = ("_migrations", "meta", "organizations", "sqlite_sequence")


class Database:
    """One SQLite connection shared by every table family; safe to call from several threads."""

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

    @property
    def changes(self) -> int:
        """Rows written since the store opened (every insert, update and delete): equal counts, same contents."""
        return self._db.total_changes

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

    @contextmanager
    def reading(self) -> Iterator[None]:
        """The reads inside see one moment: no write, from any thread, lands between them."""
        with self._lock:
            yield

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def _tuples(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows as plain tuples, no sqlite3.Row each: what a list compares and renders (records.py's row types)."""
        with self._lock:
            cursor = self._db.cursor()
            cursor.row_factory = None
            rows: list[tuple[Any, ...]] = cursor.execute(sql, params).fetchall()
            return rows

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
        counter = self._take_counters(1)
        make = ids.make_lower_id if lower else ids.make_id
        return make(prefix, self.seed, counter)

    def next_ids(self, prefix: str, count: int) -> list[str]:
        """`count` fresh ids from one counter update (what many next_id calls would give, in one write)."""
        first = self._take_counters(count)
        return [ids.make_id(prefix, self.seed, counter) for counter in range(first, first + count)]

    def _take_counters(self, count: int) -> int:
        """The first of `count` fresh values of the stored id counter (two statements in one transaction)."""
        with self.transaction():
            row = self._db.execute("SELECT value FROM meta WHERE key = 'id_counter'").fetchone()
            first = (int(row[0]) if row else 0) + 1
            last = str(first + count - 1)
            self._db.execute(
                "INSERT INTO meta (key, value) VALUES ('id_counter', ?) ON CONFLICT(key) DO UPDATE SET value = ?",
                (last, last),
            )
        return first

    def reset(self) -> None:
        """Forget every object (organisations and the seed stay, so ids keep their shape)."""
        with self.transaction():
            self._db.execute("PRAGMA defer_foreign_keys = ON")
            rows = self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
            for row in rows:
                if row["name"] not in KEPT_ON_RESET:
                    self._db.execute(f'DELETE FROM "{row["name"]}"')
