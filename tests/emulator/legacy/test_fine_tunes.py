"""Creating fine-tunes (§2.6): the pending object, defaults, every validation error; list and retrieve."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from conformance.suite.support import FINE_TUNE_KEYS
from tests.conftest import assert_error, capitals, in_process, upload
from tests.emulator.legacy.lifecycle import create_job, messages, run_to_end

JOB_KEYS = FINE_TUNE_KEYS


def test_create_fine_tune_returns_pending_job_with_one_event(client: httpx.Client) -> None:
    job = create_job(client)
    assert list(job) == JOB_KEYS
    assert job["id"].startswith("ft-") and len(job["id"]) == 27
    assert job["organization_id"].startswith("org-") and len(job["organization_id"]) == 28
    assert job["hyperparams"] == {
        "n_epochs": 4,
        "batch_size": None,
        "prompt_loss_weight": 0.01,
        "learning_rate_multiplier": None,
    }
    assert (job["model"], job["status"], job["fine_tuned_model"]) == ("curie", "pending", None)
    assert job["created_at"] == job["updated_at"] == 1684828800
    assert job["validation_files"] == job["result_files"] == []
    assert job["training_files"][0]["status"] == "processed"
    assert job["events"] == [
        {
            "object": "fine-tune-event",
            "level": "info",
            "message": f"Created fine-tune: {job['id']}",
            "created_at": 1684828800,
        }
    ]


def test_create_fine_tune_accepts_nulls_as_defaults(client: httpx.Client) -> None:
    file_id = upload(client, capitals(10))["id"]
    body = {
        "training_file": file_id,
        "validation_file": None,
        "model": None,
        "n_epochs": None,
        "batch_size": None,
        "learning_rate_multiplier": None,
        "prompt_loss_weight": None,
        "compute_classification_metrics": None,
        "classification_n_classes": None,
        "classification_positive_class": None,
        "classification_betas": None,
        "suffix": None,
    }
    job = client.post("/fine-tunes", json=body).json()
    assert (job["model"], job["hyperparams"]["n_epochs"]) == ("curie", 4)


def test_create_fine_tune_echoes_given_hyperparams(client: httpx.Client) -> None:
    job = create_job(
        client, model="ada", n_epochs=2, batch_size=3, learning_rate_multiplier=0.05, prompt_loss_weight=0.1
    )
    assert job["hyperparams"] == {
        "n_epochs": 2,
        "batch_size": 3,
        "prompt_loss_weight": 0.1,
        "learning_rate_multiplier": 0.05,
    }
    assert job["model"] == "ada"


def test_create_fine_tune_classification_hyperparams(client: httpx.Client) -> None:
    rows = [{"prompt": f"text {i} ->", "completion": " yes" if i % 2 else " no"} for i in range(20)]
    valid = upload(client, rows[:6], name="valid.jsonl")["id"]
    job = create_job(
        client,
        rows,
        validation_file=valid,
        compute_classification_metrics=True,
        classification_positive_class=" yes",
        classification_betas=[0.5, 2],
    )
    assert job["hyperparams"] == {
        "n_epochs": 4,
        "batch_size": None,
        "prompt_loss_weight": 0.01,
        "learning_rate_multiplier": None,
        "compute_classification_metrics": True,
        "classification_n_classes": None,
        "classification_positive_class": " yes",
        "classification_betas": [0.5, 2],
    }
    assert [f["id"] for f in job["validation_files"]] == [valid]


def test_list_fine_tunes_in_creation_order_without_events(client: httpx.Client) -> None:
    first, second = create_job(client)["id"], create_job(client, model="ada")["id"]
    body = client.get("/fine-tunes").json()
    assert body["object"] == "list"
    assert [job["id"] for job in body["data"]] == [first, second]
    assert all("events" not in job and list(job) == JOB_KEYS[:-1] for job in body["data"])


def test_retrieve_fine_tune_unknown_is_404(client: httpx.Client) -> None:
    assert_error(client.get("/fine-tunes/ft-nope"), 404, "No such fine-tune: ft-nope", param="id")


INVALID_BASE = (
    "Invalid base model: {model} (model must be one of ada, babbage, curie, davinci) or a fine-tuned "
    "model created by your organization: {org}"
)


def _invalid(client: httpx.Client, body: dict[str, Any]) -> httpx.Response:
    file_id = upload(client, capitals(10))["id"]
    return client.post("/fine-tunes", json={"training_file": file_id, **body})


@pytest.mark.parametrize(
    ("body", "message", "param"),
    [
        ({"n_epochs": 0}, "0 is less than the minimum of 1 - 'n_epochs'", "n_epochs"),
        ({"n_epochs": 51}, "51 is greater than the maximum of 50 - 'n_epochs'", "n_epochs"),
        ({"n_epochs": "4"}, "'4' is not of type 'integer' - 'n_epochs'", "n_epochs"),
        ({"n_epochs": 2.5}, "2.5 is not of type 'integer' - 'n_epochs'", "n_epochs"),
        ({"n_epochs": True}, "True is not of type 'integer' - 'n_epochs'", "n_epochs"),
        ({"batch_size": 0}, "0 is less than the minimum of 1 - 'batch_size'", "batch_size"),
        ({"batch_size": 257}, "257 is greater than the maximum of 256 - 'batch_size'", "batch_size"),
        (
            {"learning_rate_multiplier": 0},
            "0 is less than or equal to the minimum of 0 - 'learning_rate_multiplier'",
            "learning_rate_multiplier",
        ),
        (
            {"learning_rate_multiplier": "x"},
            "'x' is not of type 'number' - 'learning_rate_multiplier'",
            "learning_rate_multiplier",
        ),
        (
            {"prompt_loss_weight": -0.1},
            "-0.1 is less than the minimum of 0 - 'prompt_loss_weight'",
            "prompt_loss_weight",
        ),
        ({"suffix": ""}, "'' is too short - 'suffix'", "suffix"),
        ({"suffix": "x" * 41}, f"'{'x' * 41}' is too long - 'suffix'", "suffix"),
        ({"suffix": 5}, "5 is not of type 'string' - 'suffix'", "suffix"),
        ({"model": 3}, "3 is not of type 'string' - 'model'", "model"),
        (
            {"compute_classification_metrics": "yes"},
            "'yes' is not of type 'boolean' - 'compute_classification_metrics'",
            "compute_classification_metrics",
        ),
        (
            {"compute_classification_metrics": True, "classification_n_classes": 2},
            "Classification metrics need a validation file: set 'validation_file' to use "
            "'compute_classification_metrics'.",
            "validation_file",
        ),
        (
            {"classification_n_classes": 1},
            "1 is less than the minimum of 2 - 'classification_n_classes'",
            "classification_n_classes",
        ),
        (
            {"classification_betas": "1"},
            "'1' is not valid: 'classification_betas' must be a list of positive numbers",
            "classification_betas",
        ),
        ({"training_file": None}, "'training_file' is a required property", "training_file"),
        ({"training_file": 7}, "7 is not of type 'string' - 'training_file'", "training_file"),
        ({"training_file": "file-nope"}, "No such File object: file-nope", "training_file"),
        ({"validation_file": "file-nope"}, "No such File object: file-nope", "validation_file"),
    ],
)
def test_create_fine_tune_invalid_request(client: httpx.Client, body: dict[str, Any], message: str, param: str) -> None:
    assert_error(_invalid(client, body), 400, message, param=param)
    assert [job["status"] for job in client.get("/fine-tunes").json()["data"]] == []


def test_create_fine_tune_classification_without_classes(client: httpx.Client) -> None:
    valid = upload(client, capitals(5), name="v.jsonl")["id"]
    assert_error(
        _invalid(client, {"validation_file": valid, "compute_classification_metrics": True}),
        400,
        "Classification metrics need 'classification_n_classes' (multiclass) or "
        "'classification_positive_class' (binary).",
        param="classification_n_classes",
    )


@pytest.mark.parametrize("model", ["gpt-3.5-turbo", "curie:ft-personal-2020-01-01-00-00-00", "text-davinci-003"])
def test_create_fine_tune_invalid_base_model(client: httpx.Client, model: str) -> None:
    response = _invalid(client, {"model": model})
    organization_id = create_job(client)["organization_id"]
    assert_error(response, 400, INVALID_BASE.format(model=model, org=organization_id), param="model")


def test_create_fine_tune_missing_training_file(client: httpx.Client) -> None:
    assert_error(
        client.post("/fine-tunes", json={"model": "ada"}),
        400,
        "'training_file' is a required property",
        param="training_file",
    )


def test_create_fine_tune_with_a_results_file_is_refused(client: httpx.Client) -> None:
    job = run_to_end(client, create_job(client, model="ada")["id"])
    result_id = job["result_files"][0]["id"]
    assert_error(
        client.post("/fine-tunes", json={"training_file": result_id}),
        400,
        f"File {result_id} has purpose 'fine-tune-results'; fine-tuning needs a file with purpose 'fine-tune'.",
        param="training_file",
    )


def test_create_fine_tune_from_a_deleted_model_is_refused(client: httpx.Client) -> None:
    job = run_to_end(client, create_job(client, model="ada")["id"])
    model = job["fine_tuned_model"]
    assert client.delete(f"/models/{model}").json()["deleted"] is True
    response = _invalid(client, {"model": model})
    assert_error(response, 400, INVALID_BASE.format(model=model, org=job["organization_id"]), param="model")


def test_create_fine_tune_after_training_file_deleted_keeps_the_job(client: httpx.Client) -> None:
    job = create_job(client, model="ada")
    file_id = job["training_files"][0]["id"]
    client.delete(f"/files/{file_id}")
    done = run_to_end(client, job["id"])
    assert done["status"] == "succeeded"
    assert done["training_files"][0]["status"] == "deleted"


def test_create_fine_tune_instant_speed_finishes_at_once(make_app: Callable[..., Starlette]) -> None:
    api = in_process(make_app(speed="instant"))
    job = create_job(api, model="ada")
    assert job["status"] == "succeeded"
    assert {event["created_at"] for event in job["events"]} == {job["created_at"]}
    assert messages(job)[-1] == "Fine-tune succeeded"
