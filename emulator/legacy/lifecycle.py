"""The legacy fine-tune's lifecycle: its plan, and what each due transition does (events, model, results file)."""

from __future__ import annotations

import base64
import sys
from array import array
from dataclasses import dataclass, replace
from typing import Any

from emulator.core.blobs import BlobStore
from emulator.core.catalogue import BASE_MODELS, MAX_EXAMPLE_TOKENS
from emulator.core.outcomes import Outcome
from emulator.core.plan import TERMINAL, ScheduledJob, Stage, Step
from emulator.core.preparations import Prepare
from emulator.core.pricing import format_cost
from emulator.core.webhooks import Webhooks
from emulator.legacy.naming import model_name, name_prefix, unique_model_name
from emulator.legacy.results import ResultsSpec, compiled_results
from emulator.store import FileRecord, FineTuneChanges, FineTuneRecord, ModelRecord, Organization, Store

KIND = "fine-tune"


START_DELAY_SECONDS = 1.0
RESULT_DELAY_SECONDS = 1.0


@dataclass(frozen=True)
class Plan:
    """What will happen to a legacy job, fixed at creation. Offsets are simulated seconds (already sped up)."""

    processing: float
    start_delay: float
    steps: list[Step]  # kinds: epoch (number = the epoch), model, results; fail (number = the training step)
    failure: str | None
    cost: str
    trained_tokens: int
    example_tokens: list[int]
    batch_size: int
    learning_rate_multiplier: float
    outcome: dict[str, Any] | None = None  # a scripted Outcome (emulator.core.outcomes), already applied
    n_examples: int = 0  # kept in the plan: its example_tokens are stored beside the job (0 in older plans)

    def to_json(self) -> dict[str, Any]:
        """Without the per-example token counts: the store keeps those beside the job (set_token_counts)."""
        values = dict(vars(self))  # every field is plain data but the steps (asdict's deep copy cost more)
        values["steps"] = [[step.offset, step.kind, step.number] for step in self.steps]
        values["example_tokens"] = []
        return values

    @staticmethod
    def from_json(data: dict[str, Any], *, with_tokens: bool = True) -> Plan:
        """The stored plan; without its per-example token counts unless asked (a transition needs none)."""
        values = dict(data)
        values["steps"] = [Step(offset, kind, number) for offset, kind, number in values["steps"]]
        values["example_tokens"] = unpack_counts(values["example_tokens"]) if with_tokens else []
        return Plan(**values)


def failure_message(plan: Plan, step: int) -> str:
    """The event text of a scripted failure (ours: the legacy API had no error codes)."""
    outcome = Outcome.from_json(plan.outcome) or Outcome()
    where = f"at step {step}" if step else "at the start of training"
    return f"Fine-tune failed {where}: {outcome.message} (code: {outcome.code})"


def pack_counts(counts: list[int]) -> str:
    """Token counts as base64 of little-endian uint32: a 100,000-example plan decodes in a blink, not 100,000 ints."""
    packed = array("I", counts)
    if sys.byteorder != "little":
        packed.byteswap()
    return base64.b64encode(packed.tobytes()).decode("ascii")


def unpack_counts(stored: str | list[int]) -> list[int]:
    """Either form: plans stored before migration 005 hold a plain list in the plan itself."""
    if isinstance(stored, list):
        return stored
    packed = array("I", base64.b64decode(stored))
    if sys.byteorder != "little":
        packed.byteswap()
    return packed.tolist()


def default_batch_size(n_examples: int) -> int:
    """~0.2% of the examples, at least 1, capped at 256 (§4)."""
    return max(1, min(256, round(0.002 * n_examples)))


def default_learning_rate_multiplier(batch_size: int, continuing: bool) -> float:
    """0.1 for batches up to 16, 0.2 above; halved (0.05 / 0.1) when continuing from a fine-tuned model."""
    base = 0.1 if batch_size <= 16 else 0.2
    return base / 2 if continuing else base


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
    steps = [Step((start + epoch * epoch_seconds) * scale, "epoch", epoch) for epoch in range(1, n_epochs + 1)]
    uploaded = start + n_epochs * epoch_seconds + model.upload_seconds
    steps.append(Step(uploaded * scale, "model", 0))
    steps.append(Step((uploaded + RESULT_DELAY_SECONDS) * scale, "results", 0))
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
        n_examples=len(example_tokens),
    )


def scheduled(job: FineTuneRecord) -> ScheduledJob:
    """The scheduler's view; read straight from the stored plan (its token counts stay packed).

    A job still being prepared (no steps yet; at most the scripted outcome it was given) is held in its
    processing stage: nothing is due until it is ready. A scripted outcome may hold it too (stay queued).
    """
    plan = job.plan
    outcome = Outcome.from_json(plan.get("outcome"))
    return ScheduledJob(
        kind=KIND,
        id=job.id,
        seq=job.seq,
        organization_id=job.organization_id,
        stage=job.stage,
        status=job.status,
        created_at=job.created_at,
        queued_at=job.queued_at,
        started_at=job.started_at,
        processing=plan.get("processing", 0.0),
        start_delay=plan.get("start_delay", 0.0),
        step_offsets=tuple(step[0] for step in plan.get("steps", ())),
        held="steps" not in plan or (outcome is not None and outcome.holds(job.stage)),
    )


def results_stash(job_id: str) -> str:
    """The blob a job's results file waits under until its results step gives it a file id."""
    return f"results-of-{job_id}.csv"


def results_bytes(seed: int, job: FineTuneRecord, plan: Plan) -> bytes:
    """compiled_results.csv for a job: fixed by the seed, the job and its plan (so it can be written ahead)."""
    classification: dict[str, object] | None = None
    if job.hyperparams.get("compute_classification_metrics"):
        keys = ("classification_n_classes", "classification_positive_class", "classification_betas")
        classification = {key: job.hyperparams[key] for key in keys if key in job.hyperparams}
    text = compiled_results(
        ResultsSpec(
            seed=f"{seed}:{job.id}",
            example_tokens=plan.example_tokens,
            batch_size=plan.batch_size,
            n_epochs=job.hyperparams["n_epochs"],
            has_validation=bool(job.validation_file_ids),
            classification=classification,
        )
    )
    return text.encode()


class FineTuneLifecycle:
    """The legacy job kind: its events are the 2023 API's texts (legacy-fine-tunes.md §3)."""

    name = KIND

    def __init__(self, store: Store, blobs: BlobStore, webhooks: Webhooks | None = None) -> None:
        self.store = store
        self.blobs = blobs
        self.webhooks = webhooks
        # Starts a job's preparation off the event loop (legacy/preparation.py; set by the app).
        self.prepare: Prepare[FineTuneRecord] | None = None

    # JobKind --------------------------------------------------------------------------------------------

    def active_jobs(self, organization_id: str) -> list[ScheduledJob]:
        jobs = self.store.list_fine_tunes(organization_id, active_only=True)
        for job in jobs:
            if not job.plan and self.prepare is not None:
                self.prepare(job)  # after a restart: nothing else will (a running preparation is not repeated)
        return [scheduled(job) for job in jobs]

    def last_slot_release(self, organization_id: str) -> float:
        return self.store.last_slot_release(organization_id)

    def advance(
        self, organization: Organization, scheduled_job: ScheduledJob, when: float, waiting: list[ScheduledJob]
    ) -> None:
        job = self.store.get_fine_tune(organization.id, scheduled_job.id)
        assert job is not None
        plan = Plan.from_json(job.plan, with_tokens=False)
        if job.stage == Stage.PROCESSING:
            self._finish_processing(organization, job, plan, len(waiting), when)
        elif job.stage == Stage.QUEUED:
            changes: FineTuneChanges = {"stage": Stage.RUNNING, "status": "running", "started_at": when}
            self._events(job, ["Fine-tune started"], when, {**changes, "queue_number": None})
        else:
            self._run(organization, job, plan, when)

    def queue_moved(self, organization: Organization, waiting: list[ScheduledJob], when: float) -> None:
        """Every waiting job whose place in the queue fell hears its new number."""
        for position, entry in enumerate(waiting):
            if entry.kind != KIND:
                continue
            job = self.store.get_fine_tune(organization.id, entry.id)
            assert job is not None
            if job.queue_number is None or position < job.queue_number:
                message = f"Fine-tune is in the queue. Queue number: {position}"
                self._events(job, [message], when, {"queue_number": position})

    # transitions ------------------------------------------------------------------------------------------

    def _events(
        self, job: FineTuneRecord, messages: list[str], when: float, changes: FineTuneChanges, level: str = "info"
    ) -> None:
        """The job's next events, all at `when`; its row's `changes` go in the same write as its updated_at."""
        self.store.add_events(job.id, messages, int(when), level)
        row: FineTuneChanges = {**changes, "updated_at": int(when)}
        self.store.update_fine_tune(job.id, **row)

    def _finish_processing(
        self, organization: Organization, job: FineTuneRecord, plan: Plan, position: int, when: float
    ) -> None:
        if plan.failure:
            self.end(organization, job, "failed", plan.failure, when, level="error")
            return
        hyperparams = dict(job.hyperparams)
        hyperparams["batch_size"] = plan.batch_size
        hyperparams["learning_rate_multiplier"] = plan.learning_rate_multiplier
        messages = [f"Fine-tune costs {plan.cost}", f"Fine-tune enqueued. Queue number: {position}"]
        changes: FineTuneChanges = {"stage": Stage.QUEUED, "queued_at": when, "queue_number": position}
        self._events(job, messages, when, {**changes, "hyperparams": hyperparams})

    def _run(self, organization: Organization, job: FineTuneRecord, plan: Plan, when: float) -> None:
        """The due step, and every later one planned for the same moment (instant speed runs them all now).

        One transition for all of them: nothing else of the organisation's can come between steps of the same
        moment (the scheduler takes the earliest first, then the oldest job, and only the last step frees a slot).
        """
        steps = plan.steps
        index = Stage.step_index(job.stage)
        due = steps[index].offset
        messages: list[str] = []
        changes: FineTuneChanges = {}
        while index < len(steps) and steps[index].offset == due:
            step = steps[index]
            index += 1
            if step.kind == "epoch":
                messages.append(f"Completed epoch {step.number}/{job.hyperparams['n_epochs']}")
            elif step.kind == "model":
                name = changes["fine_tuned_model"] = self._register_model(organization, job, when)
                messages.append(f"Uploaded model: {name}")
            elif step.kind == "results":
                result = self._write_results(organization, job, plan, when)
                changes["result_file_ids"] = [result.id]
                messages.append(f"Uploaded result file: {result.id}")
                break
            else:  # fail
                break
        self._events(job, messages, when, {**changes, "stage": Stage.RUNNING + index})
        if step.kind == "fail":
            self.end(organization, job, "failed", failure_message(plan, step.number), when, level="error")
        elif step.kind == "results":
            self.end(organization, job, "succeeded", "Fine-tune succeeded", when)

    def _register_model(self, organization: Organization, job: FineTuneRecord, when: float) -> str:
        # The names this one could collide with, read once: many jobs ending in the same second probed one a query.
        # Its stamp's second or a later one (stamps sort as they run): not every name the organisation ever made.
        first = model_name(job.base_model, organization.name, job.suffix, int(when))
        taken = self.store.model_ids_starting(name_prefix(job.base_model, organization.name, job.suffix), first=first)
        name, created = unique_model_name(job.base_model, organization.name, job.suffix, int(when), taken.__contains__)
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
        return name

    def _write_results(self, organization: Organization, job: FineTuneRecord, plan: Plan, when: float) -> FileRecord:
        """The results file: the one its preparation wrote ahead (a rename), else written now."""
        file_id = self.store.next_id("file-")
        try:
            size = self.blobs.move(results_stash(job.id), file_id)
        except FileNotFoundError:
            plan = Plan.from_json(job.plan)
            if not plan.example_tokens:  # plans stored since migration 005 keep their counts beside the job
                plan = replace(plan, example_tokens=unpack_counts(self.store.get_token_counts(job.id) or []))
            data = results_bytes(self.store.seed, job, plan)
            self.blobs.write_bytes(file_id, data)
            size = len(data)
        record = FileRecord(
            id=file_id,
            organization_id=organization.id,
            purpose="fine-tune-results",
            filename="compiled_results.csv",
            bytes=size,
            created_at=int(when),
            status="processed",
            status_details=None,
            deleted=False,
        )
        self.store.insert_file(record)
        return record

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
        """Put a job in a terminal state with its one terminal event (the scheduler then moves the queue up).

        A job that ends other than in success leaves no usable model, even if its model was already uploaded.
        """
        changes: FineTuneChanges = {"status": status, "finished_at": when, "queue_number": None}
        with self.store.transaction():
            if status != "succeeded":
                self.blobs.delete(results_stash(job.id))  # written ahead by its preparation
                current = self.store.get_fine_tune(organization.id, job.id)
                if current is not None and current.fine_tuned_model:
                    self.store.delete_model(current.fine_tuned_model)
                    changes["fine_tuned_model"] = None
            self._events(job, [message], when, changes, level)
        if self.webhooks is not None:
            self.webhooks.emit(organization.name, f"fine_tuning.job.{status}", job.id, when)

    def stop(
        self, organization: Organization, job_id: str, status: str, message: str, when: float, *, level: str = "info"
    ) -> FineTuneRecord:
        """Cancel or fail a job now (inside Scheduler.acting); returns the job as it stood just before.

        A job already over is left unchanged: the caller tells the client. Only one terminal event, ever.
        """
        current = self.store.get_fine_tune(organization.id, job_id)
        assert current is not None
        if current.status not in TERMINAL:
            self.end(organization, current, status, message, when, level=level)
        return current
