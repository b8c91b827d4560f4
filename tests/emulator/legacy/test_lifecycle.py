"""The simulated lifecycle (§3): transitions, event texts and order, queue, cancel, failure, restart."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from emulator.core.pricing import format_cost
from emulator.core.tokens import r50k_base
from emulator.legacy.lifecycle import default_batch_size
from tests.conftest import assert_error, capitals, in_process, upload
from tests.emulator.legacy.lifecycle import advance, control_url, create_job, get_job, messages, run_to_end

SUCCESS_SHAPE = [
    r"Created fine-tune: ft-\w{24}",
    r"Fine-tune costs \$\d+\.\d\d",
    "Fine-tune enqueued. Queue number: 0",
    "Fine-tune started",
    "Completed epoch 1/4",
    "Completed epoch 2/4",
    "Completed epoch 3/4",
    "Completed epoch 4/4",
    r"Uploaded model: curie:ft-personal-\d{4}(-\d\d){5}",
    r"Uploaded result file: file-\w{24}",
    "Fine-tune succeeded",
]


def test_fine_tune_lifecycle_succeeds_with_the_real_events(client: httpx.Client) -> None:
    job = run_to_end(client, create_job(client)["id"])
    assert job["status"] == "succeeded"
    assert len(job["events"]) == len(SUCCESS_SHAPE)
    for message, pattern in zip(messages(job), SUCCESS_SHAPE, strict=True):
        assert re.fullmatch(pattern, message), message
    times = [event["created_at"] for event in job["events"]]
    assert times == sorted(times) and job["updated_at"] == times[-1]
    assert job["hyperparams"] == {
        "n_epochs": 4,
        "batch_size": 1,
        "prompt_loss_weight": 0.01,
        "learning_rate_multiplier": 0.1,
    }


def test_fine_tune_statuses_follow_the_clock(api: httpx.Client) -> None:
    job_id = create_job(api)["id"]
    seen = []
    for _ in range(400):
        job = get_job(api, job_id)
        if not seen or seen[-1] != job["status"]:
            seen.append(job["status"])
        if job["status"] == "succeeded":
            break
        advance(api, 0.05)
    assert seen == ["pending", "running", "succeeded"]


def test_fine_tune_running_starts_with_fine_tune_started(api: httpx.Client) -> None:
    job_id = create_job(api)["id"]
    while (job := get_job(api, job_id))["status"] == "pending":
        advance(api, 0.05)
    assert messages(job)[-1] == "Fine-tune started"
    assert job["hyperparams"]["batch_size"] == 1 and job["fine_tuned_model"] is None


def test_fine_tune_cost_is_tokens_times_epochs_times_price(api: httpx.Client) -> None:
    rows = capitals(100)
    tokens = sum(
        len(r50k_base().encode_ordinary(r["prompt"])) + len(r50k_base().encode_ordinary(r["completion"])) for r in rows
    )
    job = run_to_end(api, create_job(api, rows, model="davinci", n_epochs=3)["id"])
    assert f"Fine-tune costs {format_cost(tokens * 3, 0.03)}" in messages(job)
    assert format_cost(1008, 0.03) == "$0.03" and format_cost(1288, 0.003) == "$0.00"
    assert format_cost(1500, 0.03) == "$0.05"


def test_fine_tune_model_name_and_created_match_the_upload_time(api: httpx.Client) -> None:
    job = run_to_end(api, create_job(api, model="ada")["id"])
    name = job["fine_tuned_model"]
    upload_event = next(e for e in job["events"] if e["message"].startswith("Uploaded model"))
    model = api.get(f"/models/{name}").json()
    assert upload_event["message"] == f"Uploaded model: {name}"
    assert model["created"] == upload_event["created_at"] == job["result_files"][0]["created_at"]
    import time

    assert name == "ada:ft-personal-" + time.strftime("%Y-%m-%d-%H-%M-%S", time.gmtime(model["created"]))
    assert (model["owned_by"], model["root"], model["parent"]) == (job["organization_id"], "ada", "ada")


@pytest.mark.parametrize(
    ("suffix", "slug"),
    [("custom model name", "custom-model-name"), ("My_Model!!v2", "my-model-v2"), ("deleteme", "deleteme")],
)
def test_fine_tune_model_name_with_suffix(api: httpx.Client, suffix: str, slug: str) -> None:
    job = run_to_end(api, create_job(api, model="curie", suffix=suffix)["id"])
    assert re.fullmatch(rf"curie:ft-personal:{slug}-\d{{4}}(-\d\d){{5}}", job["fine_tuned_model"])


def test_fine_tune_models_never_share_a_name(make_app: Callable[..., Starlette]) -> None:
    api = in_process(make_app(speed="instant"))
    names = [create_job(api, model="ada")["fine_tuned_model"] for _ in range(3)]
    assert len(set(names)) == 3
    created = [api.get(f"/models/{name}").json()["created"] for name in names]
    assert created == sorted(created) and len(set(created)) == 3


def test_fine_tune_success_registers_model_and_results(api: httpx.Client) -> None:
    job = run_to_end(api, create_job(api)["id"])
    ids = [m["id"] for m in api.get("/models").json()["data"]]
    assert ids[-1] == job["fine_tuned_model"]
    result = job["result_files"][0]
    assert (result["purpose"], result["filename"], result["status"]) == (
        "fine-tune-results",
        "compiled_results.csv",
        "processed",
    )
    csv = api.get(f"/files/{result['id']}/content").text
    lines = csv.splitlines()
    assert lines[0] == (
        "step,elapsed_tokens,elapsed_examples,training_loss,training_sequence_accuracy,training_token_accuracy"
    )
    assert len(lines) == 1 + 100 * 4
    assert result["bytes"] == len(csv.encode())
    losses = [float(line.split(",")[3]) for line in lines[1:]]
    assert sum(losses[:40]) > sum(losses[-40:])


def test_fine_tune_results_with_validation_and_classification(api: httpx.Client) -> None:
    rows = [{"prompt": f"text {i} ->", "completion": " yes" if i % 2 else " no"} for i in range(40)]
    valid = upload(api, rows[:8], name="v.jsonl")["id"]
    job = run_to_end(
        api,
        create_job(
            api,
            rows,
            validation_file=valid,
            compute_classification_metrics=True,
            classification_positive_class=" yes",
        )["id"],
    )
    csv = api.get(f"/files/{job['result_files'][0]['id']}/content").text.splitlines()
    assert csv[0].split(",")[6:] == [
        "validation_loss",
        "validation_sequence_accuracy",
        "validation_token_accuracy",
        "classification/accuracy",
        "classification/precision",
        "classification/recall",
        "classification/auroc",
        "classification/auprc",
        "classification/f1.0",
    ]
    assert csv[1].split(",")[6] != "" and csv[2].split(",")[6] == ""
    assert all(cell != "" for cell in csv[-1].split(","))


def test_fine_tune_queue_numbers_fall_as_jobs_start(api: httpx.Client) -> None:
    jobs = [create_job(api, model="ada")["id"] for _ in range(3)]
    for _ in range(200):
        advance(api, 5)
        if get_job(api, jobs[-1])["status"] == "succeeded":
            break
    third = messages(get_job(api, jobs[2]))
    assert [m for m in third if "Queue number" in m] == [
        "Fine-tune enqueued. Queue number: 2",
        "Fine-tune is in the queue. Queue number: 1",
        "Fine-tune is in the queue. Queue number: 0",
    ]
    assert [m for m in messages(get_job(api, jobs[0])) if "Queue" in m] == ["Fine-tune enqueued. Queue number: 0"]
    spans = []
    for job_id in jobs:
        events = get_job(api, job_id)["events"]
        start = next(e["created_at"] for e in events if e["message"] == "Fine-tune started")
        spans.append((start, events[-1]["created_at"]))
    assert spans[0][1] <= spans[1][0] and spans[1][1] <= spans[2][0]


def test_fine_tune_training_slots_let_jobs_run_together(make_app: Callable[..., Starlette]) -> None:
    api = in_process(make_app(training_slots=2))
    jobs = [create_job(api, model="davinci")["id"] for _ in range(2)]
    advance(api, 2)
    assert [get_job(api, job_id)["status"] for job_id in jobs] == ["running", "running"]


def test_cancel_fine_tune_while_processing(api: httpx.Client) -> None:
    job_id = create_job(api)["id"]
    job = api.post(f"/fine-tunes/{job_id}/cancel").json()
    assert job["status"] == "cancelled"
    assert messages(job) == [f"Created fine-tune: {job_id}", "Fine-tune cancelled"]
    advance(api, 3600)
    assert messages(get_job(api, job_id))[-1] == "Fine-tune cancelled"


def test_cancel_fine_tune_while_queued_moves_the_queue(api: httpx.Client) -> None:
    first, second, third = (create_job(api, model="ada")["id"] for _ in range(3))
    advance(api, 1.5)
    assert get_job(api, third)["status"] == "pending"
    api.post(f"/fine-tunes/{second}/cancel")
    assert messages(get_job(api, third))[-1] == "Fine-tune is in the queue. Queue number: 0"
    assert run_to_end(api, third)["status"] == "succeeded"
    assert get_job(api, first)["status"] == "succeeded"


def test_cancel_fine_tune_while_running_frees_the_slot(api: httpx.Client) -> None:
    first, second = (create_job(api, model="davinci")["id"] for _ in range(2))
    while get_job(api, first)["status"] != "running":
        advance(api, 0.5)
    cancelled = api.post(f"/fine-tunes/{first}/cancel").json()
    assert cancelled["status"] == "cancelled" and cancelled["fine_tuned_model"] is None
    advance(api, 0.1)
    assert get_job(api, second)["status"] == "running"


def test_cancel_fine_tune_after_the_model_upload_leaves_no_model(api: httpx.Client) -> None:
    job_id = create_job(api, model="ada")["id"]
    job = get_job(api, job_id)
    while not any(message.startswith("Uploaded model") for message in messages(job)):
        advance(api, 0.005)
        job = get_job(api, job_id)
    assert job["status"] == "running" and job["fine_tuned_model"]
    cancelled = api.post(f"/fine-tunes/{job_id}/cancel").json()
    assert (cancelled["status"], cancelled["fine_tuned_model"]) == ("cancelled", None)
    assert messages(cancelled)[-1] == "Fine-tune cancelled"
    assert api.get(f"/models/{job['fine_tuned_model']}").status_code == 404
    advance(api, 3600)
    assert get_job(api, job_id)["result_files"] == []


def test_cancel_fine_tune_after_it_finished_is_refused(api: httpx.Client) -> None:
    job = run_to_end(api, create_job(api, model="ada")["id"])
    assert_error(
        api.post(f"/fine-tunes/{job['id']}/cancel"),
        400,
        f"Cannot cancel a fine-tune that has already succeeded: {job['id']}",
        param="id",
    )
    assert get_job(api, job["id"])["events"] == job["events"]


def test_cancel_fine_tune_unknown_is_404(api: httpx.Client) -> None:
    assert_error(api.post("/fine-tunes/ft-nope/cancel"), 404, "No such fine-tune: ft-nope", param="id")


def test_fine_tune_with_an_over_long_example_fails(api: httpx.Client) -> None:
    long_prompt = "word " * 2100
    tokens = len(r50k_base().encode_ordinary(long_prompt)) + len(r50k_base().encode_ordinary(" long\n"))
    rows = [*capitals(10), {"prompt": long_prompt, "completion": " long\n"}]
    job = create_job(api, rows)
    done = run_to_end(api, job["id"])
    assert done["status"] == "failed" and done["fine_tuned_model"] is None
    last = done["events"][-1]
    assert last["level"] == "error"
    assert last["message"] == (
        f"Fine-tune failed. Training file {job['training_files'][0]['id']} contains an "
        f"example on line 11 that is {tokens} tokens long (prompt + completion); the limit "
        "is 2048 tokens."
    )
    assert "Fine-tune costs" not in " ".join(messages(done))


def test_fail_fine_tune_scripted(api: httpx.Client) -> None:
    job_id = create_job(api)["id"]
    advance(api, 2)
    response = api.post(control_url(api, f"/fine-tunes/{job_id}/fail"), json={"message": "out of GPUs"})
    assert response.json()["status"] == "failed"
    assert messages(get_job(api, job_id))[-1] == "Fine-tune failed: out of GPUs"
    again = api.post(control_url(api, f"/fine-tunes/{job_id}/fail"), json={})
    assert_error(again, 400, f"Cannot fail a fine-tune that has already failed: {job_id}", param="id")


def test_fine_tune_retrain_from_a_tuned_model(api: httpx.Client) -> None:
    parent = run_to_end(api, create_job(api, model="curie")["id"])["fine_tuned_model"]
    more = [{"prompt": f"More {i} ->", "completion": f" m{i}\n"} for i in range(30)]
    job = run_to_end(api, create_job(api, more, model=parent, suffix="second")["id"])
    assert job["model"] == parent and job["status"] == "succeeded"
    assert re.fullmatch(r"curie:ft-personal:second-\d{4}(-\d\d){5}", job["fine_tuned_model"])
    assert job["hyperparams"]["learning_rate_multiplier"] == 0.05
    model = api.get(f"/models/{job['fine_tuned_model']}").json()
    assert (model["root"], model["parent"]) == ("curie", parent)


def test_fine_tune_resumes_after_a_restart(make_app: Callable[..., Starlette], tmp_path: Path) -> None:
    first = make_app(memory=False, data_dir=str(tmp_path))
    api = in_process(first)
    job_id = create_job(api)["id"]
    advance(api, 2)
    before = get_job(api, job_id)
    assert before["status"] == "running"
    first.state.core.close()
    api = in_process(make_app(memory=False, data_dir=str(tmp_path)))
    assert get_job(api, job_id)["events"] == before["events"]
    assert run_to_end(api, job_id)["status"] == "succeeded"


def test_fine_tune_determinism_same_seed_same_bytes(make_app: Callable[..., Starlette]) -> None:
    def transcript() -> list[bytes]:
        api = in_process(make_app(seed=99))
        out = []
        file_id = upload(api, capitals(20))["id"]
        out.append(api.post("/fine-tunes", json={"training_file": file_id, "model": "ada"}).content)
        advance(api, 3600)
        job = api.get("/fine-tunes").json()["data"][0]
        out += [
            api.get(f"/fine-tunes/{job['id']}").content,
            api.get(f"/files/{job['result_files'][0]['id']}/content").content,
            api.get("/models").content,
        ]
        return out

    assert transcript() == transcript()


def test_default_batch_size_rule() -> None:
    assert [default_batch_size(n) for n in (1, 100, 749, 750, 5000, 1_000_000)] == [1, 1, 1, 2, 10, 256]


def test_fine_tune_concurrent_readers_never_duplicate_events(api: httpx.Client) -> None:
    """Threads of an in-process app reading while the clock moves: every transition is applied once."""
    import threading

    job_id = create_job(api)["id"]
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            api.get(f"/fine-tunes/{job_id}")

    readers = [threading.Thread(target=read) for _ in range(4)]
    for reader in readers:
        reader.start()
    try:
        for _ in range(200):
            advance(api, 0.05)
            if get_job(api, job_id)["status"] == "succeeded":
                break
    finally:
        stop.set()
        for reader in readers:
            reader.join()
    done = get_job(api, job_id)
    assert done["status"] == "succeeded"
    assert len(messages(done)) == len(set(messages(done))) == len(SUCCESS_SHAPE)
