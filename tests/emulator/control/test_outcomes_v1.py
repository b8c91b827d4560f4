"""Scripted outcomes of fine-tuning jobs (`ftjob-`): fail at a step or stage, stay queued, run slower, a model
not ready at first; in-process and over a socket."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from tests.conftest import assert_error, capitals, in_process, upload
from tests.emulator.control.test_outcomes import DIVERGED, outcome
from tests.emulator.legacy.lifecycle import advance, control_url
from tests.emulator.v1.support import all_events, chat_lines, jsonl

MODEL = "gpt-4o-mini-2024-07-18"
KIND = "fine-tuning-job"


def create(http: httpx.Client, records: list[dict[str, Any]] | None = None, **body: Any) -> dict[str, Any]:
    """A job on 10 chat examples: batch size 1 and 10 epochs, so 100 training steps, 10 an epoch."""
    file_id = upload(http, jsonl(records or chat_lines(10)))["id"]
    response = http.post("/fine_tuning/jobs", json={"model": MODEL, "training_file": file_id, **body})
    assert response.status_code == 200, response.text
    job: dict[str, Any] = response.json()
    return job


def get(http: httpx.Client, job_id: str) -> dict[str, Any]:
    job: dict[str, Any] = http.get(f"/fine_tuning/jobs/{job_id}").json()
    return job


def advance_until(http: httpx.Client, job_id: str, status: str, step: float = 0.25) -> dict[str, Any]:
    for _ in range(400):
        job = get(http, job_id)
        if job["status"] == status:
            return job
        advance(http, step)
    raise AssertionError(f"{job_id} never became {status}")


def messages(http: httpx.Client, job_id: str) -> list[str]:
    """Every event's message, oldest first."""
    return [event["message"] for event in reversed(all_events(http, job_id, limit=100))]


def test_outcome_rule_fails_a_fine_tuning_job_at_step_40(client: httpx.Client) -> None:
    outcome(client, kind="fine-tune", suffix="fail-at-*", fail_at_step=1)  # a legacy-only rule: passed over
    rule = outcome(client, kind=KIND, suffix="fail-at-*", fail_at_step=40, **DIVERGED)
    job = create(client, suffix="fail-at-40")
    running = advance_until(client, job["id"], "running")
    assert running["error"] is None
    advance(client, 3600)
    failed = get(client, job["id"])
    assert (failed["status"], failed["fine_tuned_model"], failed["trained_tokens"]) == ("failed", None, None)
    assert failed["error"] == {"code": "training_diverged", "message": "The loss became NaN.", "param": None}
    newest = all_events(client, job["id"])[:2]
    assert [(e["level"], e["message"], e["type"]) for e in newest] == [
        ("error", "The loss became NaN.", "message"),
        ("info", newest[1]["message"], "metrics"),
    ]
    assert newest[1]["message"].startswith("Step 39/100: training loss=")
    steps = [m for m in messages(client, job["id"]) if m.startswith("Step ")]
    assert len(steps) == 39
    checkpoints = client.get(f"/fine_tuning/jobs/{job['id']}/checkpoints").json()["data"]
    assert [c["step_number"] for c in checkpoints] == [30, 20, 10]
    rules = client.get(control_url(client, "/outcomes")).json()["data"]
    assert [r["applied_to"] for r in rules] == [[], [job["id"]]] and rules[1]["id"] == rule["id"]
    assert create(client, suffix="other")["id"] not in rules[1]["applied_to"]


def test_outcome_next_job_stays_queued_and_others_pass_it(client: httpx.Client) -> None:
    outcome(client, next_job=True, stay_queued=True)
    held = create(client)
    other = create(client)
    assert advance_until(client, other["id"], "succeeded", step=600)["status"] == "succeeded"
    advance(client, 36000)
    assert get(client, held["id"])["status"] == "queued"
    assert messages(client, held["id"])[-1] == "Files validated, moving job to queued state"
    assert client.get(control_url(client, "/outcomes")).json()["data"] == []
    assert client.post(f"/fine_tuning/jobs/{held['id']}/cancel").json()["status"] == "cancelled"


def _duration(http: httpx.Client, job_id: str) -> float:
    job = advance_until(http, job_id, "succeeded", step=0.5)
    return float(job["finished_at"] - job["created_at"])


def test_outcome_speed_half_takes_twice_as_long(make_app: Callable[..., Starlette]) -> None:
    normal = in_process(make_app(speed="10"))
    slow = in_process(make_app(speed="10"))
    outcome(slow, next_job=True, kind=KIND, speed=0.5)
    ordinary = _duration(normal, create(normal)["id"])
    halved = _duration(slow, create(slow)["id"])
    assert ordinary > 20 and halved == pytest.approx(2 * ordinary, abs=1.5)


def test_outcome_not_ready_window_answers_404_until_the_clock_passes_it(client: httpx.Client) -> None:
    outcome(client, next_job=True, not_ready_seconds=120)
    job = advance_until(client, create(client)["id"], "succeeded", step=1)
    model = job["fine_tuned_model"]
    chat = {"model": model, "messages": [{"role": "user", "content": "What is 3 plus one?"}]}
    assert_error(
        client.post("/chat/completions", json=chat),
        404,
        f"The model `{model}` does not exist or you do not have access to it.",
        code="model_not_found",
    )
    assert_error(
        client.get(f"/models/{model}"),
        404,
        f"The model '{model}' does not exist",
        param="model",
        code="model_not_found",
    )
    advance(client, 118)
    assert client.post("/chat/completions", json=chat).status_code == 404
    advance(client, 2)
    assert client.post("/chat/completions", json=chat).status_code == 200
    assert client.get(f"/models/{model}").json()["id"] == model


def test_outcome_not_ready_window_of_a_tuned_002_model_on_completions(client: httpx.Client) -> None:
    outcome(client, kind=KIND, not_ready_seconds=60)
    job = advance_until(client, create(client, capitals(10), model="davinci-002")["id"], "succeeded", step=1)
    body = {"model": job["fine_tuned_model"], "prompt": "The capital of France is\n\n###\n\n", "max_tokens": 3}
    assert_error(
        client.post("/completions", json=body),
        404,
        f"The model `{job['fine_tuned_model']}` does not exist",
        code="model_not_found",
    )
    advance(client, 60)
    assert client.post("/completions", json=body).status_code == 200


def test_outcome_for_an_existing_job_fails_it_at_the_start(client: httpx.Client) -> None:
    job = create(client)
    created = outcome(client, job=job["id"], fail_at_stage="running", message="No capacity.", code="capacity")
    assert (created["object"], created["job"], created["fail_at_stage"]) == ("emulator.outcome", job["id"], "running")
    advance(client, 3600)
    failed = get(client, job["id"])
    assert failed["error"] == {"code": "capacity", "message": "No capacity.", "param": None}
    assert messages(client, job["id"])[-2:] == ["Fine-tuning job started", "No capacity."]


def test_outcome_for_a_running_job_past_its_step_fails_at_the_next(client: httpx.Client) -> None:
    job = create(client)
    advance_until(client, job["id"], "running")
    advance(client, 2)  # warm-up is 1 s at speed 60, a step ~0.04 s: well into the run
    done = sum(m.startswith("Step ") for m in messages(client, job["id"]))
    assert 0 < done < 99
    outcome(client, job=job["id"], fail_at_step=1)
    advance(client, 3600)
    steps = [m for m in messages(client, job["id"]) if m.startswith("Step ")]
    assert get(client, job["id"])["status"] == "failed" and len(steps) == done


def test_outcome_validating_files_fails_before_the_queue(client: httpx.Client) -> None:
    outcome(client, kind=KIND, fail_at_stage="validating_files", code="invalid_training_file", message="Bad.")
    advance(client, 3600)
    job = create(client)
    advance(client, 3600)
    failed = get(client, job["id"])
    assert (failed["status"], failed["error"]) == (
        "failed",
        {"code": "invalid_training_file", "message": "Bad.", "param": None},
    )
    assert "Fine-tuning job started" not in messages(client, job["id"])


def test_outcome_on_a_finished_or_validated_job_is_an_envelope(client: httpx.Client) -> None:
    url = control_url(client, "/outcomes")
    job = create(client)
    advance_until(client, job["id"], "running")
    assert_error(
        client.post(url, json={"job": job["id"], "fail_at_stage": "validating_files"}),
        400,
        f"Fine-tuning job {job['id']} has already validated its files.",
        param="fail_at_stage",
    )
    advance(client, 3600)
    assert_error(
        client.post(url, json={"job": job["id"], "stay_queued": True}),
        400,
        f"Cannot script a fine-tuning job that has already succeeded: {job['id']}",
        param="job",
    )
    assert_error(
        client.post(url, json={"job": "ftjob-nope", "stay_queued": True}), 404, "No such job: ftjob-nope", param="job"
    )
    assert_error(
        client.post(url, json={"kind": "fine_tuning.job", "stay_queued": True}),
        400,
        "'fine_tuning.job' is not one of ['fine-tune', 'fine-tuning-job'] - 'kind'",
        param="kind",
    )
