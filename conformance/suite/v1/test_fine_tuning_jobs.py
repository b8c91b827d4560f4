"""The modern fine-tuning API (modern-fine-tuning.md): jobs, events, checkpoints and errors, each response checked
against the current spec with its overlay (conformance/errata_current.py) when a spec directory is given."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.errata_current import current_spec
from conformance.handle import TERMINAL, Ftemu
from conformance.suite.support import assert_error, jsonl

behaviour = pytest.mark.behaviour
MODEL = "gpt-4o-mini-2024-07-18"


def chat_lines(count: int) -> list[dict[str, Any]]:
    return [
        {
            "messages": [
                {"role": "user", "content": f"What is {i} plus one?"},
                {"role": "assistant", "content": f"{i + 1}."},
            ]
        }
        for i in range(count)
    ]


def conforms(ftemu: Ftemu, component: str, instance: Any) -> None:
    """Check against the current spec (with the overlay) when the target was given a spec directory."""
    spec = ftemu.instance.spec
    current = current_spec(spec.path.parent) if spec is not None else None
    if current is not None:
        current.validate_component(component, instance, component)


def create_job(ftemu: Ftemu, count: int = 12, **body: Any) -> dict[str, Any]:
    file_id = ftemu.upload(jsonl(chat_lines(count)))["id"]
    response = ftemu.http.post("/fine_tuning/jobs", json={"model": MODEL, "training_file": file_id, **body})
    assert response.status_code == 200, response.text
    job: dict[str, Any] = response.json()
    conforms(ftemu, "FineTuningJob", job)
    return job


def wait(ftemu: Ftemu, job_id: str) -> dict[str, Any]:
    for _ in range(600):
        job: dict[str, Any] = ftemu.http.get(f"/fine_tuning/jobs/{job_id}").json()
        if job["status"] in TERMINAL:
            conforms(ftemu, "FineTuningJob", job)
            return job
        if ftemu.manual_clock:
            ftemu.advance(10)
        else:
            import time

            time.sleep(0.2 if ftemu.emulator else 10)
    raise AssertionError(f"{job_id} never finished")


def all_events(ftemu: Ftemu, job_id: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    while True:
        params: dict[str, Any] = {"limit": 50} | ({"after": events[-1]["id"]} if events else {})
        page = ftemu.http.get(f"/fine_tuning/jobs/{job_id}/events", params=params).json()
        conforms(ftemu, "ListFineTuningJobEventsResponse", page)
        events += page["data"]
        if not page["has_more"]:
            return events


@pytest.mark.spend(0.05)
@behaviour("§A4", "A successful job emits the captured texts in order, newest first, with ftevent- ids")
def test_fine_tuning_job_events_are_the_captured_texts(ftemu: Ftemu) -> None:
    job = create_job(ftemu)
    done = wait(ftemu, job["id"])
    assert done["status"] == "succeeded" and done["fine_tuned_model"].startswith(f"ft:{MODEL}:")
    messages = [event["message"] for event in reversed(all_events(ftemu, job["id"]))]
    assert messages[0] == f"Created fine-tuning job: {job['id']}"
    assert messages[1] == f"Validating training file: {job['training_file']}"
    assert messages[2:4] == ["Files validated, moving job to queued state", "Fine-tuning job started"]
    assert messages[-2:] == [
        f"New fine-tuned model created: {done['fine_tuned_model']}",
        "The job has successfully completed",
    ]


@pytest.mark.spend(0.05)
@behaviour("§A5", "Checkpoints come newest first with ckpt-step-N models; the list has first_id and last_id")
def test_fine_tuning_job_checkpoints(ftemu: Ftemu) -> None:
    job = wait(ftemu, create_job(ftemu)["id"])
    page = ftemu.http.get(f"/fine_tuning/jobs/{job['id']}/checkpoints").json()
    conforms(ftemu, "ListFineTuningJobCheckpointsResponse", page)
    steps = [checkpoint["step_number"] for checkpoint in page["data"]]
    assert steps == sorted(steps, reverse=True) and len(steps) <= 3
    assert all(c["fine_tuned_model_checkpoint"].endswith(f":ckpt-step-{c['step_number']}") for c in page["data"])


@pytest.mark.spend(0.01)
@behaviour("§A8", "Fewer than 10 examples fail the job with invalid_n_examples, param training_file")
def test_fine_tuning_job_with_7_examples_fails(ftemu: Ftemu) -> None:
    job = wait(ftemu, create_job(ftemu, 7)["id"])
    assert (job["status"], job["finished_at"], job["fine_tuned_model"]) == ("failed", None, None)
    assert job["error"] == {
        "code": "invalid_n_examples",
        "message": "Training file has 7 example(s), but must have at least 10 examples",
        "param": "training_file",
    }


@behaviour("§A8", "An unknown training file is a 400 `invalid training_file: X`, param training_file")
def test_create_fine_tuning_job_unknown_file(ftemu: Ftemu) -> None:
    response = ftemu.http.post("/fine_tuning/jobs", json={"model": MODEL, "training_file": "file-nope"})
    assert_error(response, 400, "invalid training_file: file-nope", param="training_file")


@behaviour("§A2, §A8", "An alias that cannot be tuned is a 400 model_not_available with the captured text")
def test_create_fine_tuning_job_alias_not_available(ftemu: Ftemu) -> None:
    file_id = ftemu.upload(jsonl(chat_lines(12)))["id"]
    response = ftemu.http.post("/fine_tuning/jobs", json={"model": "gpt-4o-mini", "training_file": file_id})
    message = "Model gpt-4o-mini is not available for fine-tuning or does not exist."
    assert_error(response, 400, message, code="model_not_available")


@behaviour("§A1", "The job list is newest first with has_more and no first_id/last_id")
def test_list_fine_tuning_jobs_pages(ftemu: Ftemu) -> None:
    first, second = create_job(ftemu)["id"], create_job(ftemu)["id"]
    page = ftemu.http.get("/fine_tuning/jobs", params={"limit": 1}).json()
    conforms(ftemu, "ListPaginatedFineTuningJobsResponse", page)
    assert [job["id"] for job in page["data"]] == [second] and page["has_more"] is True
    rest = ftemu.http.get("/fine_tuning/jobs", params={"limit": 1, "after": second}).json()
    assert [job["id"] for job in rest["data"]] == [first]


@pytest.mark.ftemu(clock="manual", speed="60")
@behaviour("§A3", "Cancelling a job in validation returns it cancelled")
def test_cancel_fine_tuning_job(ftemu: Ftemu) -> None:
    job = create_job(ftemu)
    if job["status"] in TERMINAL:
        pytest.skip("the target finished the job at once (instant speed)")
    cancelled = ftemu.http.post(f"/fine_tuning/jobs/{job['id']}/cancel").json()
    conforms(ftemu, "FineTuningJob", cancelled)
    assert cancelled["status"] == "cancelled"


@pytest.mark.emulator_only
@pytest.mark.ftemu(clock="manual", speed="60")
@behaviour("§A3", "A paused job stays paused while the manual clock moves; resumed, it succeeds")
def test_pause_and_resume_fine_tuning_job(ftemu: Ftemu) -> None:
    if not ftemu.manual_clock:
        pytest.skip("needs a manual clock")
    job = create_job(ftemu)
    for _ in range(100):
        if ftemu.http.get(f"/fine_tuning/jobs/{job['id']}").json()["status"] == "running":
            break
        ftemu.advance(0.25)
    paused = ftemu.http.post(f"/fine_tuning/jobs/{job['id']}/pause").json()
    conforms(ftemu, "FineTuningJob", paused)
    ftemu.advance(100_000)
    assert ftemu.http.get(f"/fine_tuning/jobs/{job['id']}").json()["status"] == "paused"
    assert ftemu.http.post(f"/fine_tuning/jobs/{job['id']}/resume").json()["status"] == "running"
    assert wait(ftemu, job["id"])["status"] == "succeeded"
