"""Scripted outcomes on fine-tuning jobs: a plan re-timed and cut at a training step; a model not ready at first.

A job's steps are its real training steps (ceil(examples / batch_size) per epoch, numbered from 1 across
epochs). Failing at step k keeps the metrics of steps 1..k-1 (and the checkpoints of the epochs they complete),
then, at step k's moment, the job fails with `error: {code, message, param: null}` (a step past the last is
the last). Failing at `running` fails right after the start; at `validating_files`, when validation ends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from emulator.core.container import Core
from emulator.core.outcomes import Outcome, check_replan, still_not_ready
from emulator.core.plan import Stage
from emulator.store import ModelRecord, Organization
from emulator.v1.lifecycle import KIND
from emulator.v1.plan import JobPlan, prepared

JOB_PREFIX = "ftjob-"


def _fail_step(plan: JobPlan, outcome: Outcome) -> int | None:
    if outcome.fail_at_stage == "running":
        return 0
    if outcome.fail_at_step is not None:
        return min(outcome.fail_at_step, max(1, plan.total_steps))
    return None


def apply_outcome(plan: JobPlan, outcome: Outcome | None) -> JobPlan:
    """The plan with the outcome's timing and failure in it (and the outcome kept for later questions)."""
    if outcome is None:
        return plan
    scale = outcome.time_scale
    failure = plan.failure
    if outcome.fail_at_stage == "validating_files":
        failure = failure or outcome.error()
    return replace(
        plan,
        processing=plan.processing * scale,
        start_delay=plan.start_delay * scale,
        warmup=plan.warmup * scale,
        step_seconds=plan.step_seconds * scale,
        upload=plan.upload * scale,
        failure=failure,
        fail_step=_fail_step(plan, outcome),
        outcome=outcome.to_json(),
    )


def outcome_for_new_job(app: Core, organization: Organization, suffix: str | None, job_id: str) -> Outcome | None:
    return app.outcomes.for_new_job(organization.name, KIND, suffix, job_id)


def outcome_applier(app: Core) -> Callable[[str, Outcome], bool]:
    """Re-plan an existing job (registered with Outcomes): only what has not happened yet can change.

    A running job that must fail at a step it has already passed (or at the start) fails at its next step.
    """

    def apply(job_id: str, outcome: Outcome) -> bool:
        if not job_id.startswith(JOB_PREFIX):
            return False
        job = app.store.find_fine_tuning_job(job_id)
        if job is None:
            return False
        check_replan("fine-tuning job", job_id, job.status, job.stage, outcome)
        if not prepared(job.plan):  # still being prepared: the preparation makes its plan around the outcome
            app.store.update_fine_tuning_job(job.id, plan={"outcome": outcome.to_json()})
        else:
            plan = apply_outcome(JobPlan.from_json(job.plan), outcome)
            done = max(0, Stage.step_index(job.stage))
            if plan.fail_step is not None and done:
                plan = replace(plan, fail_step=max(plan.fail_step, done + 1))
            app.store.update_fine_tuning_job(job.id, plan=plan.to_json())
        app.wake(job.organization_id)
        return True

    return apply


def not_ready_check(app: Core) -> Callable[[ModelRecord, float], bool]:
    """True while a scripted window keeps a job's tuned model (not its checkpoints) answering 404."""

    def not_ready(record: ModelRecord, now: float) -> bool:
        if record.checkpoint_step is not None or not record.fine_tune_id.startswith(JOB_PREFIX):
            return False
        job = app.store.find_fine_tuning_job(record.fine_tune_id)
        return job is not None and still_not_ready(job.status, job.finished_at, job.plan.get("outcome"), now)

    return not_ready
