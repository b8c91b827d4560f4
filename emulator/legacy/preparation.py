"""Preparing a legacy job off the event loop: read, check and tokenise its file, keep its examples, fix its plan.

A job is stored at creation with an empty plan: it stands in its processing stage ("pending"), held, while one
worker thread reads the training file, counts every example's tokens (a big file's in a process of their own,
meanwhile), inserts the examples in short transactions (so other requests never wait long for the store),
makes the model's index and only then stores the plan, which releases the job to the scheduler. A job found
without a plan after a restart is prepared again when the scheduler first looks at its organisation, so
start-up does nothing proportional to the store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from emulator.core import preparations as core_preparations
from emulator.core.blobs import BlobStore
from emulator.core.counting import Counted, Counting, start_counting
from emulator.core.outcomes import Outcome
from emulator.core.preparations import batches
from emulator.core.tokens import encoding_for_model, encoding_named
from emulator.inference.nearest import NearestIndex
from emulator.inference.tuned import TunedModels
from emulator.legacy.lifecycle import Plan, make_plan, pack_counts, results_bytes, results_stash, too_long_failure
from emulator.legacy.outcomes import apply_outcome
from emulator.legacy.training_file import Example, read_examples
from emulator.store import FineTuneRecord, Store

log = logging.getLogger("ftemu")
INSERT_BATCH = 500
CACHED_TEXT_CHARACTERS = 256
CACHED_FILE_EXAMPLES = 10_000


@lru_cache(maxsize=65_536)
def _short_text_tokens(encoding: str, text: str) -> int:
    """Tokens of a short text: the same fixture texts come back job after job (a tenth of a create's work)."""
    return len(encoding_named(encoding).encode_ordinary(text))


def start_token_counts(base_model: str, examples: list[Example]) -> Counting:
    """Prompt and completion tokens of each example, counted in order (prompt, completion, prompt, ...).

    A big file's are counted by a worker process while the caller goes on (emulator/core/counting.py); a small
    file's here, with the texts of up to CACHED_TEXT_CHARACTERS kept for reuse (the last 65,536 such texts: a
    big file's would only churn that cache).
    """
    encoding = encoding_for_model(base_model)
    texts = [text for example in examples for text in (example.prompt, example.completion)]
    if len(examples) > CACHED_FILE_EXAMPLES:
        return start_counting(encoding.name, texts)
    encode, name = encoding.encode_ordinary, encoding.name

    def count(text: str) -> int:
        return _short_text_tokens(name, text) if len(text) <= CACHED_TEXT_CHARACTERS else len(encode(text))

    return Counted([count(text) for text in texts])


def example_tokens(text_counts: list[int]) -> list[int]:
    """Each example's tokens (prompt + completion) from its texts' counts."""
    return [prompt + completion for prompt, completion in zip(text_counts[0::2], text_counts[1::2], strict=True)]


def job_plan(job: FineTuneRecord, examples: list[Example], tokens: list[int], speed: float | None) -> Plan:
    """The plan of a job over its training examples and their token counts (a too-long example makes it a
    planned failure)."""
    failure = too_long_failure(job.training_file_ids[0], [e.line for e in examples], tokens)
    return make_plan(
        base_model=job.base_model,
        example_tokens=tokens,
        n_epochs=job.hyperparams["n_epochs"],
        hyperparams=job.hyperparams,
        continuing=job.model != job.base_model,
        speed=speed,
        failure=failure,
    )


def unreadable_plan(job: FineTuneRecord, speed: float | None) -> Plan:
    """A job whose file is gone by the time it is prepared (deleted before a restart) fails in processing."""
    message = f"Fine-tune failed. Training file {job.training_file_ids[0]} could not be read."
    return make_plan(
        base_model=job.base_model,
        example_tokens=[],
        n_epochs=job.hyperparams["n_epochs"],
        hyperparams=job.hyperparams,
        continuing=job.model != job.base_model,
        speed=speed,
        failure=message,
    )


class Preparations(core_preparations.Preparations[FineTuneRecord]):
    """Legacy jobs' preparations; tells `on_ready` when one is.

    With `tuned_models`, a preparation also makes the model's index (its exact-prompt part) before the plan is
    stored, so a succeeded job's model answers its training prompts at once.
    """

    def __init__(
        self,
        store: Store,
        blobs: BlobStore,
        speed: float | None,
        on_ready: Callable[[FineTuneRecord, Plan], None],
        tuned_models: TunedModels | None = None,
    ) -> None:
        super().__init__("ftemu-prepare")
        self.store = store
        self.tuned_models = tuned_models
        self.blobs = blobs
        self.speed = speed
        self.on_ready = on_ready

    def _prepare(self, job: FineTuneRecord) -> None:
        try:
            plan = self.prepare(job)
        except Exception:
            log.exception("preparing %s failed", job.id)
            plan = unreadable_plan(job, self.speed)
        current = self.store.find_fine_tune(job.id)  # a scripted outcome may have been given meanwhile
        plan = apply_outcome(plan, Outcome.from_json((current or job).plan.get("outcome")))
        self.store.update_fine_tune(job.id, plan=plan.to_json())
        self.on_ready(job, plan)

    def prepare(self, job: FineTuneRecord) -> Plan:
        """Read, tokenise and keep the job's examples, make its model's index; the plan they make.

        A big file's tokens are counted by another process meanwhile: keeping the examples and making the index
        (which a failing job then drops) overlap the counting instead of following it.
        """
        try:
            examples = list(read_examples(self.blobs.read_chunks(job.training_file_ids[0])))
        except OSError:
            return unreadable_plan(job, self.speed)
        counting = start_token_counts(job.base_model, examples)
        self.store.delete_fine_tune_examples(job.id)
        pairs = [(e.prompt, e.completion) for e in examples]
        for number, batch in enumerate(batches(pairs, INSERT_BATCH)):
            self.store.insert_fine_tune_examples(job.id, batch, start=number * INSERT_BATCH)
        index = self._make_index(job, pairs)
        del pairs
        plan = job_plan(job, examples, example_tokens(counting.result()), self.speed)
        self.store.set_token_counts(job.id, pack_counts(plan.example_tokens))
        if plan.failure is None:  # its results file, written now: the results step only renames it
            self.blobs.write_bytes(results_stash(job.id), results_bytes(self.store.seed, job, plan))
            if index is not None and self.tuned_models is not None:
                self._keep_index(job, index)  # before the plan: the job cannot succeed before this is done
        return plan

    def _make_index(self, job: FineTuneRecord, pairs: list[tuple[str, str]]) -> NearestIndex | None:
        if self.tuned_models is None:
            return None
        try:
            return self.tuned_models.make(self.store, job.organization_id, job.id, job.model, own=pairs)
        except Exception:
            log.exception("indexing %s failed (its model's first completion will build the index)", job.id)
            return None

    def _keep_index(self, job: FineTuneRecord, index: NearestIndex) -> None:
        assert self.tuned_models is not None
        try:
            self.tuned_models.adopt(job.id, index)
        except Exception:
            log.exception("keeping the index of %s failed (its model's first completion will build it)", job.id)


def prepared(plan: dict[str, Any]) -> bool:
    """Whether a stored plan is ready (one without steps, at most a scripted outcome: still being prepared)."""
    return "steps" in plan
