"""/v1/fine_tuning/jobs over HTTP, in-process and over a socket: create-time errors, the job object, uploads of
every training format, list paging and filters, cancel/pause/resume in the wrong state, chat examples kept."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from tests.conftest import assert_error, in_process, upload
from tests.emulator.legacy.lifecycle import advance
from tests.emulator.v1.support import all_events, chat_lines, jsonl, preference_lines

MODEL = "gpt-4o-mini-2024-07-18"
JOB_KEYS = [
    "object",
    "id",
    "model",
    "created_at",
    "finished_at",
    "fine_tuned_model",
    "organization_id",
    "result_files",
    "status",
    "validation_file",
    "training_file",
    "hyperparameters",
    "method",
    "trained_tokens",
    "error",
    "user_provided_suffix",
    "seed",
    "estimated_finish",
    "integrations",
    "metadata",
]


def create(http: httpx.Client, **body: Any) -> httpx.Response:
    return http.post("/fine_tuning/jobs", json={"model": MODEL, **body})


def test_create_fine_tuning_job_returns_the_job_object(client: httpx.Client) -> None:
    file_id = upload(client, jsonl(chat_lines()))["id"]
    body = create(client, training_file=file_id, seed=42).json()
    assert list(body) == JOB_KEYS
    assert body["id"].startswith("ftjob-") and len(body["id"]) == 30
    assert (body["status"], body["error"], body["result_files"], body["seed"]) == ("validating_files", None, [], 42)
    assert body["method"] == {
        "type": "supervised",
        "supervised": {
            "hyperparameters": {"batch_size": "auto", "learning_rate_multiplier": "auto", "n_epochs": "auto"}
        },
    }


def test_create_fine_tuning_job_resolves_the_alias_gpt_3_5_turbo(client: httpx.Client) -> None:
    file_id = upload(client, jsonl(chat_lines()))["id"]
    assert create(client, model="gpt-3.5-turbo", training_file=file_id).json()["model"] == "gpt-3.5-turbo-0125"


def test_create_fine_tuning_job_unknown_file_is_invalid_training_file(client: httpx.Client) -> None:
    response = create(client, training_file="gpt3/mix_data_train.jsonl")
    assert_error(response, 400, "invalid training_file: gpt3/mix_data_train.jsonl", param="training_file")


@pytest.mark.parametrize("model", ["gpt-4o-mini", "gpt-4-0613", "ft:gpt-4o-mini-2024-07-18:personal::AAAAAAAA", "x"])
def test_create_fine_tuning_job_untunable_model_is_model_not_available(client: httpx.Client, model: str) -> None:
    file_id = upload(client, jsonl(chat_lines()))["id"]
    response = create(client, model=model, training_file=file_id)
    message = f"Model {model} is not available for fine-tuning or does not exist."
    assert_error(response, 400, message, code="model_not_available")


@pytest.mark.parametrize(
    ("body", "message", "param"),
    [
        ({"suffix": "s" * 65}, f"'{'s' * 65}' is too long - 'suffix'", "suffix"),
        ({"seed": -1}, "-1 is less than the minimum of 0 - 'seed'", "seed"),
        (
            {"method": {"type": "dpo", "dpo": {"hyperparameters": {"beta": 3}}}},
            "3 is greater than the maximum of 2 - 'method.dpo.hyperparameters.beta'",
            "method.dpo.hyperparameters.beta",
        ),
        (
            {"hyperparameters": {"n_epochs": 51}},
            "51 is greater than the maximum of 50 - 'hyperparameters.n_epochs'",
            "hyperparameters.n_epochs",
        ),
        (
            {"method": {"type": "rlhf"}},
            "'rlhf' is not one of ['supervised', 'dpo', 'reinforcement'] - 'method.type'",
            "method.type",
        ),
        (
            {"metadata": {str(i): "v" for i in range(17)}},
            "Invalid 'metadata': too many properties (at most 16).",
            "metadata",
        ),
    ],
)
def test_create_fine_tuning_job_bounds(client: httpx.Client, body: dict[str, Any], message: str, param: str) -> None:
    file_id = upload(client, jsonl(chat_lines()))["id"]
    assert_error(create(client, training_file=file_id, **body), 400, message, param=param)


def test_upload_accepts_chat_preference_and_reinforcement_lines(client: httpx.Client) -> None:
    reinforcement = [{"messages": [{"role": "user", "content": "2+2?"}], "answer": "4"}] * 3
    for records in (chat_lines(3), preference_lines(3), reinforcement):
        assert upload(client, jsonl(records))["status"] == "uploaded"


def test_upload_of_a_line_fitting_no_format_keeps_the_legacy_text(client: httpx.Client) -> None:
    data = jsonl(chat_lines(2)) + b'{"text": "hello"}\n'
    response = client.post("/files", files={"file": ("t.jsonl", data)}, data={"purpose": "fine-tune"})
    message = "Expected file to have JSONL format with prompt/completion keys. Missing `prompt` key on line 3."
    assert_error(response, 400, message)


@pytest.mark.parametrize("purpose", ["batch", "assistants", "vision", "user_data", "evals"])
def test_upload_other_purposes_are_stored_unchecked(client: httpx.Client, purpose: str) -> None:
    body = upload(client, b"anything at all", purpose=purpose)
    assert body["purpose"] == purpose and client.get(f"/files/{body['id']}/content").content == b"anything at all"


def test_list_fine_tuning_jobs_newest_first_with_after_and_metadata(client: httpx.Client) -> None:
    file_id = upload(client, jsonl(chat_lines()))["id"]
    ids = [create(client, training_file=file_id, metadata={"n": str(i)}).json()["id"] for i in range(3)]
    first = client.get("/fine_tuning/jobs", params={"limit": 2}).json()
    assert list(first) == ["object", "data", "has_more"]
    assert [job["id"] for job in first["data"]] == [ids[2], ids[1]] and first["has_more"] is True
    rest = client.get("/fine_tuning/jobs", params={"limit": 2, "after": ids[1]}).json()
    assert [job["id"] for job in rest["data"]] == [ids[0]] and rest["has_more"] is False
    filtered = client.get("/fine_tuning/jobs", params={"metadata[n]": "1"}).json()
    assert [job["id"] for job in filtered["data"]] == [ids[1]]


def test_list_fine_tuning_jobs_metadata_null_and_cursors(client: httpx.Client) -> None:
    """`metadata=null`: jobs without metadata; a cursor the filtered list does not hold is ignored."""
    file_id = upload(client, jsonl(chat_lines()))["id"]
    plain, tagged, empty = (
        create(client, training_file=file_id, **extra).json()["id"]
        for extra in ({}, {"metadata": {"n": "1"}}, {"metadata": {}})
    )
    untagged = {"metadata": "null"}
    assert [job["id"] for job in client.get("/fine_tuning/jobs", params=untagged).json()["data"]] == [empty, plain]
    for cursor in (tagged, "ftjob-nope"):
        listed = client.get("/fine_tuning/jobs", params={**untagged, "after": cursor}).json()["data"]
        assert [job["id"] for job in listed] == [empty, plain]
    page = client.get("/fine_tuning/jobs", params={**untagged, "after": empty, "limit": 1}).json()
    assert [job["id"] for job in page["data"]] == [plain] and page["has_more"] is False
    assert page["data"][0] == client.get(f"/fine_tuning/jobs/{plain}").json()


def test_retrieve_unknown_fine_tuning_job_is_404(client: httpx.Client) -> None:
    response = client.get("/fine_tuning/jobs/ftjob-nope")
    assert_error(response, 404, "No such fine-tuning job: ftjob-nope", param="fine_tuning_job_id")


def test_cancel_a_finished_job_and_pause_or_resume_in_the_wrong_state(client: httpx.Client) -> None:
    job_id = create(client, training_file=upload(client, jsonl(chat_lines()))["id"]).json()["id"]
    message = f"Job {job_id} cannot be resumed: its status is validating_files (only paused jobs can be resumed)."
    assert_error(client.post(f"/fine_tuning/jobs/{job_id}/resume"), 400, message, param="fine_tuning_job_id")
    message = f"Job {job_id} cannot be paused: its status is validating_files (only running jobs can be paused)."
    assert_error(client.post(f"/fine_tuning/jobs/{job_id}/pause"), 400, message, param="fine_tuning_job_id")
    assert client.post(f"/fine_tuning/jobs/{job_id}/cancel").json()["status"] == "cancelled"
    message = f"Job {job_id} has already cancelled and cannot be cancelled."
    assert_error(client.post(f"/fine_tuning/jobs/{job_id}/cancel"), 400, message, param="fine_tuning_job_id")
    events = client.get(f"/fine_tuning/jobs/{job_id}/events").json()["data"]
    assert events[0]["message"] == "Fine-tuning job cancelled"


def test_validation_file_adds_validation_metrics_and_the_captured_text(client: httpx.Client) -> None:
    train, valid = upload(client, jsonl(chat_lines()))["id"], upload(client, jsonl(chat_lines(3)))["id"]
    job_id = create(client, training_file=train, validation_file=valid).json()["id"]
    advance(client, 100_000)
    events = all_events(client, job_id)
    assert len({event["id"] for event in events}) == len(events) == 4 + 96 + 7 + 2  # 8 epochs: 7 checkpoint events
    messages = [event["message"] for event in reversed(events)]
    assert messages[1] == f"Validating training file: {train} and validation file: {valid}"
    metrics = [event for event in events if event["type"] == "metrics"]
    assert metrics[0]["message"].endswith("full validation loss=" + f"{metrics[0]['data']['full_valid_loss']:.2f}")
    assert "valid_loss" in metrics[6]["data"] and "valid_loss" not in metrics[5]["data"]  # steps 90 and 91


def test_a_succeeded_job_keeps_its_chat_examples(app: Starlette) -> None:
    http = in_process(app)
    lines = chat_lines()
    job_id = create(http, training_file=upload(http, jsonl(lines))["id"]).json()["id"]
    advance(http, 100_000)
    assert http.get(f"/fine_tuning/jobs/{job_id}").json()["status"] == "succeeded"
    examples = app.state.core.store.list_chat_examples(job_id)
    assert [(e.messages, e.reply) for e in examples] == [
        (line["messages"][:-1], line["messages"][-1]) for line in lines
    ]


def test_deleted_tuned_model_is_gone_and_cannot_be_continued(client: httpx.Client) -> None:
    file_id = upload(client, jsonl(chat_lines()))["id"]
    job_id = create(client, training_file=file_id).json()["id"]
    advance(client, 100_000)
    model = client.get(f"/fine_tuning/jobs/{job_id}").json()["fine_tuned_model"]
    assert client.get(f"/models/{model}").json() == {
        "id": model,
        "object": "model",
        "created": client.get(f"/fine_tuning/jobs/{job_id}").json()["finished_at"],
        "owned_by": client.get(f"/fine_tuning/jobs/{job_id}").json()["organization_id"],
    }
    assert client.delete(f"/models/{model}").json() == {"id": model, "object": "model", "deleted": True}
    assert client.get(f"/models/{model}").status_code == 404
    assert model not in [m["id"] for m in client.get("/models").json()["data"]]
    message = f"Model {model} is not available for fine-tuning or does not exist."
    assert_error(create(client, model=model, training_file=file_id), 400, message, code="model_not_available")


def test_checkpoint_permissions_create_list_delete(client: httpx.Client) -> None:
    job_id = create(client, training_file=upload(client, jsonl(chat_lines()))["id"]).json()["id"]
    advance(client, 100_000)
    checkpoint = client.get(f"/fine_tuning/jobs/{job_id}/checkpoints").json()["data"][0]
    path = f"/fine_tuning/checkpoints/{checkpoint['fine_tuned_model_checkpoint']}/permissions"
    created = client.post(path, json={"project_ids": ["proj-a", "proj-b"]}).json()
    assert [p["project_id"] for p in created["data"]] == ["proj-a", "proj-b"]
    assert all(p["id"].startswith("cp_") and p["object"] == "checkpoint.permission" for p in created["data"])
    listed = client.get(path).json()
    assert [p["project_id"] for p in listed["data"]] == ["proj-b", "proj-a"] and listed["has_more"] is False
    assert listed["first_id"] == listed["data"][0]["id"] and listed["last_id"] == listed["data"][-1]["id"]
    gone = created["data"][0]["id"]
    assert client.delete(f"{path}/{gone}").json() == {"id": gone, "object": "checkpoint.permission", "deleted": True}
    assert [p["project_id"] for p in client.get(path, params={"order": "ascending"}).json()["data"]] == ["proj-b"]
    response = client.delete(f"{path}/{gone}")
    assert_error(response, 404, f"No such checkpoint permission: {gone}", param="permission_id")


def test_checkpoint_model_is_retrievable_but_not_listed(client: httpx.Client) -> None:
    job_id = create(client, training_file=upload(client, jsonl(chat_lines()))["id"]).json()["id"]
    advance(client, 100_000)
    name = client.get(f"/fine_tuning/jobs/{job_id}/checkpoints").json()["data"][-1]["fine_tuned_model_checkpoint"]
    assert client.get(f"/models/{name}").json()["id"] == name
    assert name not in [m["id"] for m in client.get("/models").json()["data"]]


def test_legacy_fine_tune_refuses_a_chat_file_with_the_upload_text(client: httpx.Client) -> None:
    file_id = upload(client, jsonl(chat_lines()))["id"]
    response = client.post("/fine-tunes", json={"training_file": file_id, "model": "curie"})
    message = "Expected file to have JSONL format with prompt/completion keys. Missing `prompt` key on line 1."
    assert_error(response, 400, message, param="training_file")


def checkpoint_story(app: Starlette, step_seconds: float) -> tuple[list[str], list[int], list[int]]:
    """A job run to its end, `step_seconds` of the clock at a time: (every checkpoint its events name, the steps
    of those kept, the steps of those whose models answer)."""
    http = in_process(app)
    job_id = create(http, training_file=upload(http, jsonl(chat_lines()))["id"]).json()["id"]
    while http.get(f"/fine_tuning/jobs/{job_id}").json()["status"] != "succeeded":
        advance(http, step_seconds)
    texts = [event["message"] for event in reversed(all_events(http, job_id, limit=100))]
    named = [text.rsplit(" ", 1)[-1] for text in texts if text.startswith("Checkpoint created at step")]
    kept = [c["step_number"] for c in http.get(f"/fine_tuning/jobs/{job_id}/checkpoints").json()["data"]]
    answering = [int(name.rsplit("-", 1)[-1]) for name in named if http.get(f"/models/{name}").status_code == 200]
    return named, kept, answering


@pytest.mark.parametrize("speed", ["instant", "60"])
def test_only_the_newest_checkpoints_are_kept_however_many_steps_a_transition_runs(
    make_app: Callable[..., Starlette], speed: str
) -> None:
    # At instant speed one transition runs all 96 steps; at 60x a 0.05-second clock step runs one or two.
    named, kept, answering = checkpoint_story(make_app(speed=speed), 0.05 if speed == "60" else 100_000)
    assert [int(name.rsplit("-", 1)[-1]) for name in named] == [12, 24, 36, 48, 60, 72, 84]  # the 96th: the model
    assert len(set(named)) == len(named) and all(name.startswith(f"ft:{MODEL}:personal::") for name in named)
    assert kept == [96, 84, 72]
    assert answering == [72, 84]  # the replaced ones answer 404, as after a real job
