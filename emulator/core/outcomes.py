"""Scripted job outcomes: fail at a stage or step, stay queued, run slower or faster, a model not ready at first.

An `Outcome` is chosen once, when a job is created (`Outcomes.for_new_job`), and stored with the job's plan, so
it survives restarts and repeats exactly. It is set for one existing job (a kind registers an applier that
re-plans it), for the next job created, or by a rule (suffix glob, kind, organisation; optionally N times).

A job kind wires it in a few lines:

    outcome = core.outcomes.for_new_job(organization.name, KIND, suffix)   # at creation, None mostly
    plan = ...scaled by outcome.time_scale, steps cut at outcome.fail_at_step...
    ScheduledJob(..., held=outcome.holds(stage))                          # stay queued
    outcome.not_ready(finished_at, now)                                   # at inference: 404 model_not_found

and registers an applier (re-plans one existing job) and a not-ready check (asked for every tuned model).
"""

from __future__ import annotations

import fnmatch
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from emulator.core.errors import invalid_request
from emulator.core.plan import TERMINAL, Stage
from emulator.store import ModelRecord

FAIL_STAGES = ("validating_files", "running")
DEFAULT_CODE = "server_error"
DEFAULT_MESSAGE = "The job failed due to an internal error."


@dataclass(frozen=True)
class Outcome:
    """What will happen to one job, beyond its ordinary plan. Steps count from 1."""

    fail_at_stage: str | None = None
    fail_at_step: int | None = None
    code: str = DEFAULT_CODE
    message: str = DEFAULT_MESSAGE
    stay_queued: bool = False
    speed: float = 1.0  # 2.0: twice as fast as the other jobs; 0.5: half as fast
    not_ready_seconds: float = 0.0

    @property
    def fails(self) -> bool:
        return self.fail_at_stage is not None or self.fail_at_step is not None

    @property
    def time_scale(self) -> float:
        """Multiply every planned offset by this."""
        return 1.0 / self.speed

    def holds(self, stage: int) -> bool:
        """True when the scheduler must leave the job where it is (queued, for good)."""
        return self.stay_queued and stage == Stage.QUEUED

    def not_ready(self, finished_at: float | None, now: float) -> bool:
        """True while the tuned model still answers 404 after its job succeeded."""
        return finished_at is not None and now < finished_at + self.not_ready_seconds

    def error(self) -> dict[str, Any]:
        """The failed job's `error` object (modern jobs)."""
        return {"code": self.code, "message": self.message, "param": None}

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_json(data: dict[str, Any] | None) -> Outcome | None:
        return None if data is None else Outcome(**data)


@dataclass
class Rule:
    """Which new jobs get an outcome: the next one, or those matching a suffix glob (and kind, organisation)."""

    id: str
    outcome: Outcome
    next_job: bool = False
    suffix: str | None = None
    kind: str | None = None
    organization: str | None = None
    remaining: int | None = None  # None: every matching job
    applied: list[str] = field(default_factory=list)

    def matches(self, organization: str, kind: str, suffix: str | None) -> bool:
        if self.kind is not None and self.kind != kind:
            return False
        if self.organization is not None and self.organization != organization:
            return False
        return self.suffix is None or (suffix is not None and fnmatch.fnmatchcase(suffix, self.suffix))

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "emulator.outcome",
            "next_job": self.next_job,
            "suffix": self.suffix,
            "kind": self.kind,
            "organization": self.organization,
            "remaining": self.remaining,
            "applied_to": list(self.applied),
            **self.outcome.to_json(),
        }


Applier = Callable[[str, Outcome], bool]
NotReadyCheck = Callable[[ModelRecord, float], bool]


class Outcomes:
    """The rules in force (oldest first wins) and each job kind's way to re-plan one existing job."""

    def __init__(self) -> None:
        self.rules: list[Rule] = []
        self.appliers: list[Applier] = []
        self.not_ready_checks: list[NotReadyCheck] = []
        self._counter = 0
        self._lock = threading.Lock()

    def add_rule(self, rule: Rule) -> Rule:
        with self._lock:
            self._counter += 1
            rule.id = rule.id or f"outcome_{self._counter:06d}"
            if rule.next_job:
                rule.remaining = 1
            self.rules.append(rule)
            return rule

    def clear(self) -> None:
        with self._lock:
            self.rules = []

    def for_new_job(self, organization: str, kind: str, suffix: str | None, job_id: str = "") -> Outcome | None:
        """The outcome of a job being created now (a `next_job` rule or a counted rule is used up)."""
        if not self.rules:
            return None
        with self._lock:
            for rule in self.rules:
                if rule.matches(organization, kind, suffix):
                    rule.applied.append(job_id)
                    if rule.remaining is not None:
                        rule.remaining -= 1
                        if rule.remaining <= 0:
                            self.rules.remove(rule)
                    return rule.outcome
        return None

    def apply_to_job(self, job_id: str, outcome: Outcome) -> bool:
        """Re-plan an existing job of any registered kind (False: no kind knows the id)."""
        return any(apply(job_id, outcome) for apply in self.appliers)

    def model_not_ready(self, record: ModelRecord, now: float) -> bool:
        """True while a tuned model of any registered kind still answers 404 after its job succeeded."""
        return any(check(record, now) for check in self.not_ready_checks)


def check_replan(noun: str, job_id: str, status: str, stage: int, outcome: Outcome) -> None:
    """The 400s of scripting a job that is over, or failing at validation one that has validated its files."""
    if status in TERMINAL:
        raise invalid_request(f"Cannot script a {noun} that has already {status}: {job_id}", param="job")
    if outcome.fail_at_stage == "validating_files" and stage != Stage.PROCESSING:
        message = f"{noun[:1].upper()}{noun[1:]} {job_id} has already validated its files."
        raise invalid_request(message, param="fail_at_stage")


def still_not_ready(status: str, finished_at: float | None, outcome: dict[str, Any] | None, now: float) -> bool:
    """True while a succeeded job's scripted window (its plan's stored outcome) keeps its model answering 404."""
    scripted = Outcome.from_json(outcome)
    return status == "succeeded" and scripted is not None and scripted.not_ready(finished_at, now)


def _number(spec: dict[str, Any], name: str, default: float, minimum: float, exclusive: bool = False) -> float:
    value = spec.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise invalid_request(f"{value!r} is not of type 'number' - '{name}'", param=name)
    if value < minimum or (exclusive and value == minimum):
        raise invalid_request(f"{value!r} is less than the minimum of {minimum} - '{name}'", param=name)
    return float(value)


def parse_outcome(spec: dict[str, Any]) -> Outcome:
    """An Outcome from the control API's JSON (fields as in `Outcome`)."""
    stage = spec.get("fail_at_stage")
    if stage is not None and stage not in FAIL_STAGES:
        raise invalid_request(f"{stage!r} is not one of {list(FAIL_STAGES)} - 'fail_at_stage'", param="fail_at_stage")
    step = spec.get("fail_at_step")
    if step is not None and (isinstance(step, bool) or not isinstance(step, int) or step < 1):
        raise invalid_request(f"{step!r} is not a positive integer - 'fail_at_step'", param="fail_at_step")
    for name in ("code", "message"):
        if spec.get(name) is not None and not isinstance(spec[name], str):
            raise invalid_request(f"{spec[name]!r} is not of type 'string' - '{name}'", param=name)
    return Outcome(
        fail_at_stage=stage,
        fail_at_step=step,
        code=spec.get("code") or DEFAULT_CODE,
        message=spec.get("message") or DEFAULT_MESSAGE,
        stay_queued=bool(spec.get("stay_queued")),
        speed=_number(spec, "speed", 1.0, 0, exclusive=True),
        not_ready_seconds=_number(spec, "not_ready_seconds", 0.0, 0),
    )


RULE_FIELDS = ("job", "next_job", "suffix", "kind", "organization", "times")
OUTCOME_FIELDS = ("fail_at_stage", "fail_at_step", "code", "message", "stay_queued", "speed", "not_ready_seconds")


def parse_rule(spec: dict[str, Any]) -> Rule:
    """A rule from the control API's JSON: the outcome's fields plus who gets it (next_job, suffix, kind, ...)."""
    unknown = sorted(set(spec) - set(RULE_FIELDS) - set(OUTCOME_FIELDS))
    if unknown:
        raise invalid_request(f"Unrecognized outcome field: {unknown[0]!r}", param=unknown[0])
    for name in ("suffix", "kind", "organization"):
        if spec.get(name) is not None and not isinstance(spec[name], str):
            raise invalid_request(f"{spec[name]!r} is not of type 'string' - '{name}'", param=name)
    times = spec.get("times")
    if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 1):
        raise invalid_request(f"{times!r} is not a positive integer - 'times'", param="times")
    next_job = bool(spec.get("next_job"))
    if not next_job and spec.get("suffix") is None and spec.get("kind") is None and spec.get("organization") is None:
        raise invalid_request(
            "Say which jobs get the outcome: 'job', 'next_job', or a rule ('suffix', 'kind', 'organization').",
            param="next_job",
        )
    return Rule(
        id="",
        outcome=parse_outcome({name: spec[name] for name in OUTCOME_FIELDS if name in spec}),
        next_job=next_job,
        suffix=spec.get("suffix"),
        kind=spec.get("kind"),
        organization=spec.get("organization"),
        remaining=times,
    )
