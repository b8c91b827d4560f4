"""The chat_examples table: the conversations a chat-format fine-tuning job learned, kept with the job."""

from __future__ import annotations

import json
from collections.abc import Iterable

from emulator.store.db import Database
from emulator.store.records import ChatExample


class ChatExamplesTable(Database):
    """A job's examples in file order, so deleting its training file loses nothing its model knows."""

    def insert_chat_examples(self, job_id: str, examples: Iterable[ChatExample], *, start: int = 0) -> None:
        """`start` is the position of the first one: a big file goes in as several short transactions, so no
        other request waits long for the store."""
        with self.transaction():
            self._db.executemany(
                "INSERT INTO chat_examples (job_id, position, messages, reply, tools) VALUES (?, ?, ?, ?, ?)",
                (
                    (
                        job_id,
                        position,
                        json.dumps(example.messages),
                        json.dumps(example.reply),
                        None if example.tools is None else json.dumps(example.tools),
                    )
                    for position, example in enumerate(examples, start)
                ),
            )

    def delete_chat_examples(self, job_id: str) -> None:
        """Forget a job's examples (a preparation cut short by a restart starts again)."""
        self._execute("DELETE FROM chat_examples WHERE job_id = ?", (job_id,))

    def list_chat_examples(self, job_id: str) -> list[ChatExample]:
        rows = self._query(
            "SELECT messages, reply, tools FROM chat_examples WHERE job_id = ? ORDER BY position", (job_id,)
        )
        return [
            ChatExample(
                json.loads(row["messages"]),
                json.loads(row["reply"]),
                None if row["tools"] is None else json.loads(row["tools"]),
            )
            for row in rows
        ]
