"""Scripted outcomes on legacy fine-tunes: a plan re-timed and cut at a training step; a model not ready at first.

A legacy job's training steps are its batches: each epoch has ceil(examples / batch_size) steps, numbered from 1
across epochs, spread evenly over the epoch's planned time (epoch 1 from the start of the run). Failing at step
k keeps the epochs completed before it and ends the job at k's moment (a step past the last one is the last).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

from emulator.core.container import Core
from emulator.core.outcomes import Outcome, check_replan, still_not_ready
from emulator.core.plan import Stage, Step
from emulator.legacy.lifecycle import KIND, Plan
from emulator.store import ModelRecord, Organization


def steps_per_epoch(plan: Plan) -> int:
    return max(1, math.ceil((plan.n_examples or len(plan.example_tokens)) / plan.batch_size))


def _cut_at_step(plan: Plan, steps: list[Step], step: int) -> list[Step]:
    epochs = [s for s in steps if s.kind == "epoch"]
    per_epoch = steps_per_epoch(plan)
    step = min(step, per_epoch * len(epochs))
    epoch = math.ceil(step / per_epoch)
    begin = 0.0 if epoch == 1 else epochs[epoch - 2].offset
    end = epochs[epoch - 1].offset
    at = begin + (step - (epoch - 1) * per_epoch) / per_epoch * (end - begin)
    return [s for s in epochs if s.number < epoch] + [Step(at, "fail", step)]


def apply_outcome(plan: Plan, outcome: Outcome | None) -> Plan:
    """The plan with the outcome's timing and failure in it (and the outcome kept for later questions)."""
    if outcome is None:
        return plan
    scale = outcome.time_scale
    steps = [Step(s.offset * scale, s.kind, s.number) for s in plan.steps]
    failure = plan.failure
    if outcome.fail_at_stage == "validating_files":
        failure = failure or f"Fine-tune failed: {outcome.message} (code: {outcome.code})"
    elif outcome.fail_at_stage == "running":
        steps = [Step(0.0, "fail", 0)]
    elif outcome.fail_at_step is not None:
        steps = _cut_at_step(plan, steps, outcome.fail_at_step)
    return replace(
        plan,
        processing=plan.processing * scale,
        start_delay=plan.start_delay * scale,
        steps=steps,
        failure=failure,
        outcome=outcome.to_json(),
    )


def _fail_not_before(old: Plan, new: Plan, outcome: Outcome, done: int) -> Plan:
    """A failure among the steps a running job has already taken moves to its next planned step."""
    if len(new.steps) > done:
        return new
    scale = outcome.time_scale
    following = old.steps[done]
    per_epoch = steps_per_epoch(old)
    epochs = sum(step.kind == "epoch" for step in old.steps)
    batches = following.number * per_epoch if following.kind == "epoch" else epochs * per_epoch
    kept = [Step(s.offset * scale, s.kind, s.number) for s in old.steps[:done]]
    return replace(new, steps=[*kept, Step(following.offset * scale, "fail", batches)])


def outcome_for_new_job(app: Core, organization: Organization, suffix: str | None, job_id: str) -> Outcome | None:
    return app.outcomes.for_new_job(organization.name, KIND, suffix, job_id)


def outcome_applier(app: Core) -> Callable[[str, Outcome], bool]:
    """Re-plan an existing legacy job (registered with Outcomes): only what has not happened yet can change.

    A running job that must fail at a step it has already passed (or at the start) fails at its next epoch's end.
    """

    def apply(job_id: str, outcome: Outcome) -> bool:
        job = app.store.find_fine_tune(job_id)
        if job is None:
            return False
        check_replan("fine-tune", job_id, job.status, job.stage, outcome)
        if "steps" not in job.plan:  # still being prepared: the preparation makes its plan around the outcome
            app.store.update_fine_tune(job.id, plan={"outcome": outcome.to_json()})
        else:
            plan = Plan.from_json(job.plan)
            step = max(0, Stage.step_index(job.stage))
            replanned = _fail_not_before(plan, apply_outcome(plan, outcome), outcome, step)
            app.store.update_fine_tune(job.id, plan=replanned.to_json())
        app.wake(job.organization_id)
        return True

    return apply


def not_ready_check(app: Core) -> Callable[[ModelRecord, float], bool]:
    """True while a scripted not-ready window keeps the tuned model answering 404 after its job succeeded."""

    def not_ready(record: ModelRecord, now: float) -> bool:
        if not record.fine_tune_id.startswith("ft-"):
            return False
        job = app.store.find_fine_tune(record.fine_tune_id)
        return job is not None and still_not_ready(job.status, job.finished_at, job.plan.get("outcome"), now)

    return not_ready
