"""The fine-tuning job's lifecycle: its schedule, and what each due transition does (events, checkpoints, model,
results file), plus cancel, pause and resume. Event texts are the captured ones (modern-fine-tuning.md A4);
the failure, cancel, pause and resume texts are ours (no source has them)."""

from __future__ import annotations

from typing import Any

from emulator.core.blobs import BlobStore
from emulator.core.outcomes import Outcome
from emulator.core.plan import TERMINAL, ScheduledJob, Stage
from emulator.core.preparations import Prepare
from emulator.core.webhooks import Webhooks
from emulator.store import FileRecord, ModelRecord, Organization, Store
from emulator.store.job_records import FineTuningJobRecord, NewJobEvent
from emulator.v1 import metrics, naming
from emulator.v1.plan import KEPT_CHECKPOINTS, JobPlan, prepared, resolve_hyperparameters

Data = dict[str, Any]
KIND = "fine-tuning-job"
RESULTS_FILENAME = "step_metrics.csv"
CANCELLED = "Fine-tuning job cancelled"
PAUSED = "Fine-tuning job paused"
RESUMED = "Fine-tuning job resumed"


def scheduled(job: FineTuningJobRecord) -> ScheduledJob:
    """The scheduler's view: a paused job is held, and its due times move by the time it spent paused.

    A job scripted to stay queued (emulator.core.outcomes) is held there too, and a job still being prepared
    (emulator/v1/preparation.py) in `validating_files`: nothing is due until its plan is stored.
    """
    outcome = Outcome.from_json(job.plan.get("outcome"))
    ready = prepared(job.plan)
    plan = JobPlan.from_json(job.plan) if ready else None
    return ScheduledJob(
        kind=KIND,
        id=job.id,
        seq=job.seq,
        organization_id=job.organization_id,
        stage=job.stage,
        status=job.status,
        created_at=job.created_at,
        queued_at=job.queued_at,
        started_at=None if job.started_at is None else job.started_at + job.paused_total,
        processing=plan.processing if plan else 0.0,
        start_delay=plan.start_delay if plan else 0.0,
        step_offsets=plan.offsets() if plan else (),
        held=not ready or job.status == "paused" or (outcome is not None and outcome.holds(job.stage)),
    )


class FineTuningJobLifecycle:
    """The modern job kind, sharing the organisation's slots and queue with legacy fine-tunes."""

    name = KIND

    def __init__(self, store: Store, blobs: BlobStore, webhooks: Webhooks | None = None) -> None:
        self.store = store
        self.blobs = blobs
        self.webhooks = webhooks
        self._pending: list[NewJobEvent] = []  # one transition's events, written together by _flush
        self._metrics: dict[int, Data] = {}  # one transition's steps' metrics: the results file reuses them
        # Starts a job's preparation off the event loop (v1/preparation.py; set by the app).
        self.prepare: Prepare[FineTuningJobRecord] | None = None

    # JobKind --------------------------------------------------------------------------------------------

    def active_jobs(self, organization_id: str) -> list[ScheduledJob]:
        jobs = self.store.list_fine_tuning_jobs(organization_id, active_only=True)
        for job in jobs:
            if not prepared(job.plan) and self.prepare is not None:
                self.prepare(job)  # after a restart: nothing else will (a running preparation is not repeated)
        return [scheduled(job) for job in jobs]

    def last_slot_release(self, organization_id: str) -> float:
        return self.store.fine_tuning_slot_release(organization_id)

    def advance(
        self, organization: Organization, scheduled_job: ScheduledJob, when: float, waiting: list[ScheduledJob]
    ) -> None:
        job = self.store.get_fine_tuning_job(organization.id, scheduled_job.id)
        assert job is not None
        plan = JobPlan.from_json(job.plan)
        self._metrics.clear()  # only this transition's steps (one cut short by an error left its own)
        if job.stage == Stage.PROCESSING:
            self._finish_validating(job, plan, when)
        elif job.stage == Stage.QUEUED:
            self._start(job, plan, when)
        else:
            self._run(organization, job, plan, when)
        self._flush(job)

    def queue_moved(self, organization: Organization, waiting: list[ScheduledJob], when: float) -> None:
        """Modern jobs tell nothing of their place in the queue (no such event was ever captured)."""

    # transitions ------------------------------------------------------------------------------------------

    def _event(
        self, job: FineTuningJobRecord, message: str, when: float, *, level: str = "info", data: Data | None = None
    ) -> None:
        """A message event (data `{}`), or a metrics event when `data` is a step's metrics; written by _flush."""
        kind = "message" if data is None else "metrics"
        self._pending.append(NewJobEvent(message, int(when), level, data or {}, kind))

    def _flush(self, job: FineTuningJobRecord) -> None:
        events, self._pending = self._pending, []
        self._metrics.clear()
        if events:
            self.store.add_job_events(job.id, events)

    def _ended(self, job: FineTuningJobRecord, status: str, when: float) -> None:
        """Tell the organisation's webhook endpoint, if any, that the job is over."""
        organization = self.store.get_organization(job.organization_id) if self.webhooks else None
        if self.webhooks is not None and organization is not None:
            self.webhooks.emit(organization.name, f"fine_tuning.job.{status}", job.id, when)

    def _fail(self, job: FineTuningJobRecord, error: Data, when: float) -> None:
        """A failed job: its error, and one error event whose text is the error's message."""
        self.store.update_fine_tuning_job(job.id, status="failed", error=error, finished_at=when)
        self._event(job, error["message"], when, level="error")
        self._ended(job, "failed", when)

    def _finish_validating(self, job: FineTuningJobRecord, plan: JobPlan, when: float) -> None:
        if plan.failure is not None:
            self._fail(job, plan.failure, when)
            return
        self.store.update_fine_tuning_job(job.id, stage=Stage.QUEUED, status="queued", queued_at=when)
        self._event(job, "Files validated, moving job to queued state", when)

    def _start(self, job: FineTuningJobRecord, plan: JobPlan, when: float) -> None:
        method = resolve_hyperparameters(job.method, max(1, plan.n_examples))
        self.store.update_fine_tuning_job(job.id, stage=Stage.RUNNING, status="running", started_at=when, method=method)
        # The one message event whose data is null in every capture.
        self._pending.append(NewJobEvent("Fine-tuning job started", int(when), data=None))

    def _run(self, organization: Organization, job: FineTuningJobRecord, plan: JobPlan, when: float) -> None:
        """The due step, and every later one planned for the same moment (instant speed runs them all now)."""
        offsets = plan.offsets()
        start = index = Stage.step_index(job.stage)
        due = offsets[index]
        while index < len(offsets) and offsets[index] == due:
            index += 1
        saved = [
            step
            for step in plan.checkpoint_steps()
            if start < step <= index and step <= plan.total_steps and not plan.fails_at(step - 1)
        ]
        # A checkpoint that later ones of this same transition replace is named in its event, never stored (the
        # store would keep it for a moment, then drop it: the same answers for every read, at a tenth the cost).
        passing = set(saved[:-KEPT_CHECKPOINTS])
        named: set[str] = set()
        for position in range(start, index):
            if plan.fails_at(position):
                self._fail(job, (Outcome.from_json(plan.outcome) or Outcome()).error(), when)
            elif position < plan.total_steps:
                step = position + 1
                self._step(organization, job, plan, step, when, step in saved, step in passing, named)
            else:
                self._succeed(organization, job, plan, when)
        if saved:
            for dropped in self.store.list_checkpoints(job.id)[KEPT_CHECKPOINTS:]:
                self.store.delete_checkpoint(dropped.id)
                self.store.delete_model(dropped.fine_tuned_model_checkpoint)
        self.store.update_fine_tuning_job(job.id, stage=Stage.RUNNING + index)

    def _step(
        self,
        organization: Organization,
        job: FineTuningJobRecord,
        plan: JobPlan,
        step: int,
        when: float,
        saves: bool,
        passing: bool,
        named: set[str],
    ) -> None:
        """One training step's metrics event; at an epoch's end (`saves`), its checkpoint (only named when
        `passing`: a later one of the same transition replaces it)."""
        data = self._metrics[step] = metrics.step_metrics(
            self.metrics_key(job), step, plan.total_steps, plan.has_validation
        )
        self._event(job, metrics.step_message(data), when, data=data)
        if saves:
            name = self._checkpoint(organization, job, step, data, when, passing, named)
            if step != plan.total_steps:
                self._event(job, f"Checkpoint created at step {step} with Snapshot ID: {name}", when)

    def metrics_key(self, job: FineTuningJobRecord) -> str:
        return f"{self.store.seed}:{job.id}:{job.seed}"

    def _draw(self) -> str:
        return self.store.next_id("")

    def _checkpoint(
        self,
        organization: Organization,
        job: FineTuningJobRecord,
        step: int,
        data: Data,
        when: float,
        passing: bool,
        named: set[str],
    ) -> str:
        """A checkpoint's name (unique among stored models and those `named` in this transition); stored with its
        model unless `passing`. The caller keeps only the newest KEPT_CHECKPOINTS."""
        store = self.store
        name = naming.unique_name(
            lambda short: naming.checkpoint_name(job.base_model, organization.name, job.suffix, short, step),
            int(when),
            self._draw,
            lambda name: name in named or store.model_name_taken(name),
        )
        named.add(name)
        if not passing:
            self._register(organization, job, name, when, step)
            store.insert_checkpoint(
                store.next_id("ftckpt_"), job.id, int(when), name, step, metrics.checkpoint_metrics(data)
            )
        return name

    def _register(
        self, organization: Organization, job: FineTuningJobRecord, name: str, when: float, step: int | None = None
    ) -> None:
        self.store.insert_model(
            ModelRecord(
                id=name,
                organization_id=organization.id,
                created=int(when),
                root=job.base_model,
                parent=job.model,
                fine_tune_id=job.id,
                permission_id=self.store.next_id("snapperm-"),
                deleted=False,
                checkpoint_step=step,
            )
        )

    def _succeed(self, organization: Organization, job: FineTuningJobRecord, plan: JobPlan, when: float) -> None:
        name = naming.unique_name(
            lambda short: naming.model_name(job.base_model, organization.name, job.suffix, short),
            int(when),
            self._draw,
            self.store.model_name_taken,
        )
        self._register(organization, job, name, when)
        self._event(job, f"New fine-tuned model created: {name}", when)
        result = self._write_results(organization, job, plan, when)
        self.store.update_fine_tuning_job(
            job.id,
            status="succeeded",
            fine_tuned_model=name,
            result_files=[result.id],
            trained_tokens=plan.trained_tokens,
            finished_at=when,
        )
        self._event(job, "The job has successfully completed", when)
        self._ended(job, "succeeded", when)

    def _write_results(
        self, organization: Organization, job: FineTuningJobRecord, plan: JobPlan, when: float
    ) -> FileRecord:
        data = metrics.results_file(self.metrics_key(job), plan.total_steps, plan.has_validation, self._metrics)
        record = FileRecord(
            id=self.store.next_id("file-"),
            organization_id=organization.id,
            purpose="fine-tune-results",
            filename=RESULTS_FILENAME,
            bytes=len(data),
            created_at=int(when),
            status="processed",
            status_details=None,
            deleted=False,
        )
        self.blobs.write_bytes(record.id, data)
        self.store.insert_file(record)
        return record

    # actions (inside Scheduler.acting) --------------------------------------------------------------------

    def cancel(self, job: FineTuningJobRecord, when: float) -> bool:
        """Cancel a job not yet over; False when it already is (the caller tells the client)."""
        if job.status in TERMINAL:
            return False
        self.store.update_fine_tuning_job(job.id, status="cancelled", finished_at=when, paused_at=None)
        self._event(job, CANCELLED, when)
        self._flush(job)
        self._ended(job, "cancelled", when)
        return True

    def pause(self, job: FineTuningJobRecord, when: float) -> bool:
        """Hold a running job where it stands (it keeps its training slot); False unless it is running."""
        if job.status != "running":
            return False
        self.store.update_fine_tuning_job(job.id, status="paused", paused_at=when)
        self._event(job, PAUSED, when)
        self._flush(job)
        return True

    def resume(self, job: FineTuningJobRecord, when: float) -> bool:
        """Run a paused job on; every later transition moves by the time it spent paused."""
        if job.status != "paused" or job.paused_at is None:
            return False
        paused_total = job.paused_total + (when - job.paused_at)
        self.store.update_fine_tuning_job(job.id, status="running", paused_at=None, paused_total=paused_total)
        self._event(job, RESUMED, when)
        self._flush(job)
        return True
