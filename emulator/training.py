"""The simulated training queue: a job's plan is data computed at creation; catch_up(now) applies what is due.

A job moves through stages. Stage 0: its file is processing. Stage 1: processed and waiting for one of the
organisation's training slots (FIFO). Stage 2 and up: running, one stage per planned step (epochs, model
upload, result upload). Every transition happens at a time derived from the stored plan and the stored facts
(when a job was queued, started, finished); catch_up applies them in time order up to `now`, so reading state
never depends on a background thread and a restart resumes every job where the clock says it is.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from emulator.blobs import BlobStore
from emulator.catalogue import BASE_MODELS, MAX_EXAMPLE_TOKENS
from emulator.naming import unique_model_name
from emulator.results import ResultsSpec, compiled_results
from emulator.store import FileRecord, FineTuneRecord, ModelRecord, Organization, Store

START_DELAY_SECONDS = 1.0
RESULT_DELAY_SECONDS = 1.0
NEVER = math.inf


@dataclass(frozen=True)
class Plan:
    """What will happen to a job, fixed at creation. Offsets are simulated seconds (already sped up)."""

    processing: float
    start_delay: float
    steps: list[tuple[float, str, int]]  # (seconds after start, kind: epoch|model|results, epoch number)
    failure: str | None
    cost: str
    trained_tokens: int
    example_tokens: list[int]
    batch_size: int
    learning_rate_multiplier: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_json(data: dict[str, Any]) -> Plan:
        values = dict(data)
        values["steps"] = [tuple(step) for step in values["steps"]]
        return Plan(**values)


def default_batch_size(n_examples: int) -> int:
    """~0.2% of the examples, at least 1, capped at 256 (§4)."""
    return max(1, min(256, round(0.002 * n_examples)))


def default_learning_rate_multiplier(batch_size: int, continuing: bool) -> float:
    """0.1 for batches up to 16, 0.2 above; halved (0.05 / 0.1) when continuing from a fine-tuned model."""
    base = 0.1 if batch_size <= 16 else 0.2
    return base / 2 if continuing else base


def format_cost(trained_tokens: int, price_per_1k: float) -> str:
    cents = math.floor(trained_tokens * price_per_1k / 1000 * 100 + 0.5 + 1e-9)
    return f"${cents // 100}.{cents % 100:02d}"


def too_long_failure(file_id: str, lines: list[int], tokens: list[int]) -> str | None:
    for line, count in zip(lines, tokens, strict=True):
        if count > MAX_EXAMPLE_TOKENS:
            return (
                f"Fine-tune failed. Training file {file_id} contains an example on line {line} that is "
                f"{count} tokens long (prompt + completion); the limit is {MAX_EXAMPLE_TOKENS} tokens."
            )
    return None


def make_plan(
    *,
    base_model: str,
    example_tokens: list[int],
    n_epochs: int,
    hyperparams: dict[str, Any],
    continuing: bool,
    speed: float | None,
    failure: str | None,
) -> Plan:
    """Realistic durations (scaled by tokens and base model), divided by the speed factor."""
    model = BASE_MODELS[base_model]
    tokens_per_epoch = sum(example_tokens)
    trained_tokens = tokens_per_epoch * n_epochs
    scale = 0.0 if speed is None else 1.0 / speed
    epoch_seconds = max(1.0, tokens_per_epoch / 1000 * model.seconds_per_1k_tokens)
    start = model.warmup_seconds
    steps: list[tuple[float, str, int]] = []
    for epoch in range(1, n_epochs + 1):
        steps.append(((start + epoch * epoch_seconds) * scale, "epoch", epoch))
    uploaded = start + n_epochs * epoch_seconds + model.upload_seconds
    steps.append((uploaded * scale, "model", 0))
    steps.append(((uploaded + RESULT_DELAY_SECONDS) * scale, "results", 0))
    batch_size = hyperparams.get("batch_size") or default_batch_size(len(example_tokens))
    multiplier = hyperparams.get("learning_rate_multiplier") or default_learning_rate_multiplier(batch_size, continuing)
    return Plan(
        processing=(60.0 + tokens_per_epoch / 100) * scale,
        start_delay=START_DELAY_SECONDS * scale,
        steps=steps,
        failure=failure,
        cost=format_cost(trained_tokens, model.training_price_per_1k),
        trained_tokens=trained_tokens,
        example_tokens=example_tokens,
        batch_size=batch_size,
        learning_rate_multiplier=multiplier,
    )


TERMINAL = ("succeeded", "failed", "cancelled")


class Trainer:
    """Applies due transitions to an organisation's jobs, in time order."""

    def __init__(self, store: Store, blobs: BlobStore, slots: int, on_change: Callable[[], None]) -> None:
        self.store = store
        self.blobs = blobs
        self.slots = slots
        self.on_change = on_change
        self._idle: set[str] = set()  # organisations known to have no pending or running job
        # One writer of the schedule at a time: concurrent catch-ups (threads of an in-process app) must not
        # apply the same transition twice, nor end a job that another thread just finished.
        self._lock = threading.RLock()

    def wake(self, organization_id: str) -> None:
        """A job was created (or the store changed under us): look at the organisation again."""
        with self._lock:
            self._idle.discard(organization_id)

    def forget(self) -> None:
        with self._lock:
            self._idle.clear()

    # reading the schedule ---------------------------------------------------------------------------------

    def _due(self, job: FineTuneRecord, jobs: list[FineTuneRecord], release: float) -> float:
        plan = Plan.from_json(job.plan)
        if job.stage == 0:
            return job.created_at + plan.processing
        if job.stage == 1:
            waiting = _waiting(jobs)
            running = sum(1 for other in jobs if other.stage >= 2)
            if [other.id for other in waiting].index(job.id) >= self.slots - running:
                return NEVER
            assert job.queued_at is not None
            return max(job.queued_at + plan.start_delay, release)
        assert job.started_at is not None
        return job.started_at + plan.steps[job.stage - 2][0]

    def next_due(self, organization: Organization) -> float:
        """When the organisation's next transition happens (inf when nothing is planned)."""
        jobs = self.store.list_fine_tunes(organization.id, active_only=True)
        release = self.store.last_slot_release(organization.id)
        return min((self._due(job, jobs, release) for job in jobs), default=NEVER)

    # applying it ------------------------------------------------------------------------------------------

    def catch_up(self, organization: Organization, now: float) -> None:
        if organization.id in self._idle:
            return
        with self._lock:
            self._catch_up(organization, now)

    def _catch_up(self, organization: Organization, now: float) -> None:
        if not self.store.has_active_fine_tunes(organization.id):
            self._idle.add(organization.id)
            return
        changed = False
        while True:
            jobs = self.store.list_fine_tunes(organization.id, active_only=True)
            release = self.store.last_slot_release(organization.id)
            due = [(self._due(job, jobs, release), job.seq, job) for job in jobs]
            if not due:
                break
            when, _, job = min(due, key=lambda item: (item[0], item[1]))
            if when > now:
                break
            with self.store.transaction():
                self._advance(organization, job, when)
            changed = True
        if changed:
            self.on_change()

    def _advance(self, organization: Organization, job: FineTuneRecord, when: float) -> None:
        plan = Plan.from_json(job.plan)
        if job.stage == 0:
            self._finish_processing(organization, job, plan, when)
        elif job.stage == 1:
            self._start(organization, job, when)
        else:
            self._step(organization, job, plan, when)

    def _event(self, job: FineTuneRecord, message: str, when: float, level: str = "info") -> None:
        self.store.add_event(job.id, message, int(when), level)
        self.store.update_fine_tune(job.id, updated_at=int(when))

    def _finish_processing(self, organization: Organization, job: FineTuneRecord, plan: Plan, when: float) -> None:
        if plan.failure:
            self.end(organization, job, "failed", plan.failure, when, level="error")
            return
        hyperparams = dict(job.hyperparams)
        hyperparams["batch_size"] = plan.batch_size
        hyperparams["learning_rate_multiplier"] = plan.learning_rate_multiplier
        position = len(_waiting(self.store.list_fine_tunes(organization.id, active_only=True)))
        self.store.update_fine_tune(job.id, stage=1, queued_at=when, queue_number=position, hyperparams=hyperparams)
        self._event(job, f"Fine-tune costs {plan.cost}", when)
        self._event(job, f"Fine-tune enqueued. Queue number: {position}", when)

    def _start(self, organization: Organization, job: FineTuneRecord, when: float) -> None:
        self.store.update_fine_tune(job.id, stage=2, status="running", started_at=when, queue_number=None)
        self._event(job, "Fine-tune started", when)
        self._announce_queue(organization, when)

    def _announce_queue(self, organization: Organization, when: float) -> None:
        """Every waiting job whose place in the queue fell hears its new number."""
        for position, job in enumerate(_waiting(self.store.list_fine_tunes(organization.id, active_only=True))):
            if job.queue_number is None or position < job.queue_number:
                self.store.update_fine_tune(job.id, queue_number=position)
                self._event(job, f"Fine-tune is in the queue. Queue number: {position}", when)

    def _step(self, organization: Organization, job: FineTuneRecord, plan: Plan, when: float) -> None:
        _, kind, epoch = plan.steps[job.stage - 2]
        self.store.update_fine_tune(job.id, stage=job.stage + 1)
        if kind == "epoch":
            self._event(job, f"Completed epoch {epoch}/{job.hyperparams['n_epochs']}", when)
        elif kind == "model":
            name = self._register_model(organization, job, when)
            self._event(job, f"Uploaded model: {name}", when)
        else:
            result = self._write_results(organization, job, plan, when)
            self.store.update_fine_tune(job.id, result_file_ids=[result.id])
            self._event(job, f"Uploaded result file: {result.id}", when)
            self.end(organization, job, "succeeded", "Fine-tune succeeded", when)

    def _register_model(self, organization: Organization, job: FineTuneRecord, when: float) -> str:
        name, created = unique_model_name(
            job.base_model, organization.name, job.suffix, int(when), self.store.model_name_taken
        )
        self.store.insert_model(
            ModelRecord(
                id=name,
                organization_id=organization.id,
                created=created,
                root=job.base_model,
                parent=job.model,
                fine_tune_id=job.id,
                permission_id=self.store.next_id("snapperm-"),
                deleted=False,
            )
        )
        self.store.update_fine_tune(job.id, fine_tuned_model=name)
        return name

    def _write_results(self, organization: Organization, job: FineTuneRecord, plan: Plan, when: float) -> FileRecord:
        classification: dict[str, object] | None = (
            {
                key: job.hyperparams[key]
                for key in (
                    "classification_n_classes",
                    "classification_positive_class",
                    "classification_betas",
                )
                if key in job.hyperparams
            }
            if job.hyperparams.get("compute_classification_metrics")
            else None
        )
        text = compiled_results(
            ResultsSpec(
                seed=f"{self.store.seed}:{job.id}",
                example_tokens=plan.example_tokens,
                batch_size=plan.batch_size,
                n_epochs=job.hyperparams["n_epochs"],
                has_validation=bool(job.validation_file_ids),
                classification=classification,
            )
        )
        data = text.encode()
        record = FileRecord(
            id=self.store.next_id("file-"),
            organization_id=organization.id,
            purpose="fine-tune-results",
            filename="compiled_results.csv",
            bytes=len(data),
            created_at=int(when),
            status="processed",
            status_details=None,
            deleted=False,
        )
        self.blobs.write_bytes(record.id, data)
        self.store.insert_file(record)
        return record

    def stop(
        self, organization: Organization, job_id: str, status: str, message: str, when: float, *, level: str = "info"
    ) -> FineTuneRecord:
        """Cancel or fail a job now (after applying whatever was due); returns the job as it then stands.

        A job already over is returned unchanged: the caller tells the client. Only one terminal event, ever.
        """
        with self._lock:
            self._catch_up(organization, when)
            job = self.store.get_fine_tune(organization.id, job_id)
            assert job is not None
            if job.status not in TERMINAL:
                self.end(organization, job, status, message, when, level=level)
                self._catch_up(organization, when)
            final = self.store.get_fine_tune(organization.id, job_id)
        assert final is not None
        if final.status != job.status:
            self.on_change()
        return job

    def end(
        self,
        organization: Organization,
        job: FineTuneRecord,
        status: str,
        message: str,
        when: float,
        *,
        level: str = "info",
    ) -> None:
        """Put a job in a terminal state with its one terminal event; the queue moves up behind it.

        A job that ends other than in success leaves no usable model, even if its model was already uploaded.
        """
        with self.store.transaction():
            self.store.update_fine_tune(job.id, status=status, finished_at=when, queue_number=None)
            current = self.store.get_fine_tune(organization.id, job.id)
            if status != "succeeded" and current is not None and current.fine_tuned_model:
                self.store.delete_model(current.fine_tuned_model)
                self.store.update_fine_tune(job.id, fine_tuned_model=None)
            self._event(job, message, when, level)
            self._announce_queue(organization, when)


def _waiting(jobs: list[FineTuneRecord]) -> list[FineTuneRecord]:
    """Jobs processed and waiting for a slot, first come first served."""
    waiting = [job for job in jobs if job.stage == 1 and job.status == "pending"]
    return sorted(waiting, key=lambda job: (job.queued_at or 0.0, job.seq))
