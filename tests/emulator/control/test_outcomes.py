"""Scripted outcomes of legacy fine-tunes: fail at a step or stage, stay queued, run slower, a model not ready."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from tests.conftest import KEY, assert_error, capitals, in_process
from tests.emulator.legacy.lifecycle import advance, control_url, create_job, get_job, messages, run_to_end

DIVERGED = {"code": "training_diverged", "message": "The loss became NaN."}


def outcome(http: httpx.Client, **body: Any) -> dict[str, Any]:
    response = http.post(control_url(http, "/outcomes"), json=body)
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created


def advance_until(http: httpx.Client, job_id: str, status: str) -> dict[str, Any]:
    for _ in range(200):
        job = get_job(http, job_id)
        if job["status"] == status:
            return job
        advance(http, 0.5)
    raise AssertionError(f"{job_id} never became {status}")


def test_outcome_rule_fails_a_legacy_job_at_step_40(client: httpx.Client) -> None:
    rule = outcome(client, suffix="fail-at-*", fail_at_step=40, **DIVERGED)
    assert (rule["id"], rule["suffix"], rule["fail_at_step"]) == ("outcome_000001", "fail-at-*", 40)
    # 20 examples, batch size 1: 20 steps an epoch, so step 40 ends epoch 2.
    job = create_job(client, capitals(20), suffix="fail-at-40", model="ada")
    running = advance_until(client, job["id"], "running")
    assert messages(running)[-1] == "Fine-tune started"
    failed = run_to_end(client, job["id"])
    assert failed["status"] == "failed" and failed["fine_tuned_model"] is None
    assert messages(failed)[-2:] == [
        "Completed epoch 1/4",
        "Fine-tune failed at step 40: The loss became NaN. (code: training_diverged)",
    ]
    assert failed["events"][-1]["level"] == "error"
    other = run_to_end(client, create_job(client, capitals(20), suffix="other", model="ada")["id"])
    assert other["status"] == "succeeded"
    assert client.get(control_url(client, "/outcomes")).json()["data"][0]["applied_to"] == [job["id"]]


def test_outcome_next_job_stays_queued_and_others_pass_it(client: httpx.Client) -> None:
    outcome(client, next_job=True, stay_queued=True)
    held = create_job(client, capitals(20), model="ada")
    other = create_job(client, capitals(20), model="ada")
    assert run_to_end(client, other["id"])["status"] == "succeeded"
    advance(client, 36000)
    job = get_job(client, held["id"])
    assert (job["status"], messages(job)[-1]) == ("pending", "Fine-tune enqueued. Queue number: 0")
    assert client.get(control_url(client, "/outcomes")).json()["data"] == []
    cancelled = client.post(f"/fine-tunes/{held['id']}/cancel").json()
    assert cancelled["status"] == "cancelled"


def _duration(http: httpx.Client, job_id: str) -> float:
    job = run_to_end(http, job_id)
    return float(job["events"][-1]["created_at"] - job["created_at"])


def test_outcome_speed_half_takes_twice_as_long(make_app: Callable[..., Starlette]) -> None:
    normal = in_process(make_app())
    slow = in_process(make_app())
    outcome(slow, next_job=True, speed=0.5)
    ordinary = _duration(normal, create_job(normal, capitals(20), model="curie")["id"])
    halved = _duration(slow, create_job(slow, capitals(20), model="curie")["id"])
    assert halved == pytest.approx(2 * ordinary, abs=2)


def test_outcome_not_ready_window_answers_404_until_the_clock_passes_it(client: httpx.Client) -> None:
    outcome(client, next_job=True, not_ready_seconds=120)
    job = advance_until(client, create_job(client, capitals(20), model="ada")["id"], "succeeded")
    model = job["fine_tuned_model"]
    body = {"model": model, "prompt": "The capital of Country3 is\n\n###\n\n", "max_tokens": 3}
    assert_error(
        client.post("/completions", json=body), 404, f"The model `{model}` does not exist", code="model_not_found"
    )
    assert client.get(f"/models/{model}").status_code == 404
    advance(client, 119)
    assert client.post("/completions", json=body).status_code == 404
    advance(client, 1)
    assert client.post("/completions", json=body).status_code == 200
    assert client.get(f"/models/{model}").json()["id"] == model


def test_outcome_for_an_existing_job_fails_it_at_the_start(client: httpx.Client) -> None:
    job = create_job(client, capitals(20), model="ada")
    created = outcome(client, job=job["id"], fail_at_stage="running", message="No capacity.", code="capacity")
    assert (created["object"], created["job"], created["fail_at_stage"]) == ("emulator.outcome", job["id"], "running")
    failed = run_to_end(client, job["id"])
    assert messages(failed)[-2:] == [
        "Fine-tune started",
        "Fine-tune failed at the start of training: No capacity. (code: capacity)",
    ]


def test_outcome_for_a_running_job_past_its_step_fails_at_the_next_epoch(client: httpx.Client) -> None:
    job = create_job(client, capitals(20), model="ada")
    while "Completed epoch 2/4" not in messages(get_job(client, job["id"])):
        advance(client, 0.02)
    outcome(client, job=job["id"], fail_at_step=1, code="late", message="Too late.")
    failed = run_to_end(client, job["id"])
    assert messages(failed)[-2:] == ["Completed epoch 2/4", "Fine-tune failed at step 60: Too late. (code: late)"]
    for scripted in ({"fail_at_stage": "running"}, {"fail_at_step": 80}):  # after the last epoch: at the upload
        other = create_job(client, capitals(20), model="ada")
        while "Completed epoch 4/4" not in messages(get_job(client, other["id"])):
            advance(client, 0.02)
        outcome(client, job=other["id"], **scripted)
        assert messages(run_to_end(client, other["id"]))[-1].startswith("Fine-tune failed at step 80: ")


def test_outcome_validating_files_fails_before_the_queue(client: httpx.Client) -> None:
    outcome(client, kind="fine-tune", fail_at_stage="validating_files", code="invalid_training_file", message="Bad.")
    failed = run_to_end(client, create_job(client, capitals(20), model="ada")["id"])
    assert messages(failed)[-1] == "Fine-tune failed: Bad. (code: invalid_training_file)"
    assert "Fine-tune started" not in messages(failed)


def test_outcome_bad_input_is_an_envelope(client: httpx.Client) -> None:
    url = control_url(client, "/outcomes")
    assert_error(
        client.post(url, json={"fail_at_step": 3}),
        400,
        "Say which jobs get the outcome: 'job', 'next_job', or a rule ('suffix', 'kind', 'organization').",
        param="next_job",
    )
    assert_error(
        client.post(url, json={"next_job": True, "fail_at_step": 0}),
        400,
        "0 is not a positive integer - 'fail_at_step'",
        param="fail_at_step",
    )
    assert_error(
        client.post(url, json={"next_job": True, "speed": 0}),
        400,
        "0 is less than the minimum of 0 - 'speed'",
        param="speed",
    )
    assert_error(
        client.post(url, json={"job": "ft-nope", "stay_queued": True}), 404, "No such job: ft-nope", param="job"
    )
    done = run_to_end(client, create_job(client, capitals(20), model="ada")["id"])
    assert_error(
        client.post(url, json={"job": done["id"]}),
        400,
        f"Cannot script a fine-tune that has already succeeded: {done['id']}",
        param="job",
    )


def test_control_file_preloads_faults_and_outcomes(make_app: Callable[..., Starlette], tmp_path: Path) -> None:
    path = tmp_path / "control.toml"
    path.write_text(
        '[[faults]]\nmethod = "GET"\npath = "/v1/models"\nstatus = 503\ntimes = 1\n\n'
        '[[outcomes]]\nsuffix = "doomed"\nfail_at_step = 1\n'
    )
    api = in_process(make_app(control_file=str(path)))
    assert api.get("/models").status_code == 503
    assert api.get("/models").status_code == 200
    failed = run_to_end(api, create_job(api, capitals(20), model="ada", suffix="doomed")["id"])
    assert messages(failed)[-1] == (
        "Fine-tune failed at step 1: The job failed due to an internal error. (code: server_error)"
    )


def test_control_file_with_a_bad_entry_stops_start_up(tmp_path: Path) -> None:
    from emulator import Settings, create_app

    path = tmp_path / "control.json"
    path.write_text('{"faults": [{"status": 503, "kind": "explode"}]}')
    with pytest.raises(ValueError, match="is not one of"):
        create_app(Settings(memory=True, control_file=str(path)))


def test_control_key_guards_the_control_plane_only(make_app: Callable[..., Starlette]) -> None:
    app = make_app(control_key="ctl-secret")
    api = in_process(app)
    assert_error(
        api.post(control_url(api, "/faults"), json={"status": 500}),
        401,
        "The control plane needs its key: Authorization: Bearer <--control-key>.",
    )
    control = in_process(app, headers={"Authorization": "Bearer ctl-secret"})
    assert control.post(control_url(control, "/faults"), json={"status": 500, "path": "/v1/files"}).status_code == 200
    assert api.get("/files").status_code == 500
    assert api.get("/models", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
