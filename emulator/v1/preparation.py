"""Preparing a fine-tuning job off the event loop: read and check its files, count its tokens, keep its examples.

The create stores the job at once in `validating_files` with a plan that holds at most its scripted outcome; it
stands there, held, while the worker (or, for a small file, the create itself) reads and checks the files,
counts the tokens, inserts the conversations in short transactions and only then stores the plan, which
releases the job to the scheduler: its validation then ends at the planned moment, with the file's problem if
it has one. A job found unprepared after a restart is prepared again on its organisation's next look.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from emulator.core.blobs import BlobStore
from emulator.core.catalogue import modern_model
from emulator.core.outcomes import Outcome
from emulator.core.preparations import Preparations, batches
from emulator.core.tokens import encoding_named
from emulator.inference.chat_knowledge import ChatModels
from emulator.store import Store
from emulator.store.job_records import FineTuningJobRecord
from emulator.v1.create import Prepared, prepare_job, unreadable_file
from emulator.v1.outcomes import apply_outcome
from emulator.v1.plan import make_plan

log = logging.getLogger("ftemu")
INSERT_BATCH = 500


def unreadable(job: FineTuningJobRecord, speed: float | None) -> Prepared:
    """A job whose preparation could not be made fails when its validation ends (ours: never seen for real)."""
    plan = make_plan(
        method=job.method,
        example_tokens=[],
        token_limit=65_536,
        has_validation=job.validation_file is not None,
        speed=speed,
        failure=unreadable_file(job.training_file, "training_file"),
    )
    return Prepared(plan, [])


class JobPreparations(Preparations[FineTuningJobRecord]):
    """Fine-tuning jobs' preparations; tells `on_ready` when one is (the app wakes event streams there)."""

    def __init__(
        self,
        store: Store,
        blobs: BlobStore,
        speed: float | None,
        on_ready: Callable[[FineTuningJobRecord], None],
        chat_models: ChatModels | None = None,
    ) -> None:
        super().__init__("ftemu-prepare-jobs")
        self.store = store
        self.blobs = blobs
        self.speed = speed
        self.on_ready = on_ready
        self.chat_models = chat_models

    def _prepare(self, job: FineTuningJobRecord) -> None:
        try:
            made = self.prepare(job)
        except Exception:
            log.exception("preparing %s failed", job.id)
            made = unreadable(job, self.speed)
        current = self.store.find_fine_tuning_job(job.id)  # a scripted outcome may have been given meanwhile
        plan = apply_outcome(made.plan, Outcome.from_json((current or job).plan.get("outcome")))
        self.store.update_fine_tuning_job(job.id, plan=plan.to_json())
        self.on_ready(job)

    def prepare(self, job: FineTuningJobRecord) -> Prepared:
        """Check the job's files, plan it and keep the conversations its model will know."""
        base = modern_model(job.base_model)
        if base is None:
            return unreadable(job, self.speed)
        made = prepare_job(self.blobs, self.speed, base, job.method, job.training_file, job.validation_file)
        encoding_named(base.encoding)  # loaded here if another process counted: the model's first answer needs it
        self.store.delete_chat_examples(job.id)
        for number, batch in enumerate(batches(made.examples, INSERT_BATCH)):
            self.store.insert_chat_examples(job.id, batch, start=number * INSERT_BATCH)
        if made.plan.failure is None and made.examples:
            self._make_knowledge(job, made)
        return made

    def _make_knowledge(self, job: FineTuningJobRecord, made: Prepared) -> None:
        """The final model's knowledge, made and kept before the plan is stored: its first answer then builds
        nothing (a failure here only leaves that to the first answer)."""
        if self.chat_models is None:
            return
        try:
            knowledge = self.chat_models.make(
                self.store, job.organization_id, job.id, job.model, job.base_model, own=made.examples
            )
            self.chat_models.adopt(knowledge.name, knowledge.index)
        except Exception:
            log.exception("making the knowledge of %s failed (its model's first answer will)", job.id)
