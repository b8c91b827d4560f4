"""Fine-tunes (§2.6-2.9, §3): create, validation, every status path, list, cancel, failure, the queue."""

from __future__ import annotations

import re

import pytest

from conformance.handle import Ftemu
from conformance.suite.support import FINE_TUNE_KEYS, ID_24, assert_error, create_fine_tune, messages, training_file

behaviour = pytest.mark.behaviour
pytestmark = [pytest.mark.ftemu(speed="60"), pytest.mark.spend(0.01)]
STAMP = r"\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d"


@behaviour("§2.6", "Creating a fine-tune returns the job `pending`, real key order, one `Created fine-tune` event")
def test_create_fine_tune_returns_a_pending_job(ftemu: Ftemu) -> None:
    file_id = training_file(ftemu)
    job = create_fine_tune(ftemu, training_file=file_id, model=None)
    assert list(job) == FINE_TUNE_KEYS
    assert job["id"].startswith("ft-") and ID_24.fullmatch(job["id"][3:])
    assert (job["object"], job["model"], job["status"], job["fine_tuned_model"]) == (
        "fine-tune",
        "curie",
        "pending",
        None,
    )
    assert job["hyperparams"] == {
        "n_epochs": 4,
        "batch_size": None,
        "prompt_loss_weight": 0.01,
        "learning_rate_multiplier": None,
    }
    assert [f["id"] for f in job["training_files"]] == [file_id]
    assert (job["validation_files"], job["result_files"]) == ([], [])
    assert job["created_at"] == job["updated_at"]
    assert job["events"] == [
        {
            "object": "fine-tune-event",
            "level": "info",
            "message": f"Created fine-tune: {job['id']}",
            "created_at": job["created_at"],
        }
    ]


@behaviour("§2.6", "Hyperparameters given by the caller are echoed as given")
def test_create_fine_tune_echoes_hyperparams(ftemu: Ftemu) -> None:
    job = create_fine_tune(ftemu, n_epochs=2, batch_size=3, learning_rate_multiplier=0.05, prompt_loss_weight=0.1)
    assert job["hyperparams"] == {
        "n_epochs": 2,
        "batch_size": 3,
        "prompt_loss_weight": 0.1,
        "learning_rate_multiplier": 0.05,
    }


@behaviour("§1.3", "JSON null for an optional field means its default")
def test_create_fine_tune_nulls_mean_defaults(ftemu: Ftemu) -> None:
    job = create_fine_tune(
        ftemu,
        model="ada",
        validation_file=None,
        n_epochs=None,
        batch_size=None,
        learning_rate_multiplier=None,
        prompt_loss_weight=None,
        suffix=None,
        compute_classification_metrics=None,
        classification_n_classes=None,
        classification_positive_class=None,
        classification_betas=None,
    )
    assert job["hyperparams"]["n_epochs"] == 4 and job["status"] == "pending"


@behaviour("§3.1, §3.2", "A job goes pending -> running -> succeeded with the documented events in order")
def test_fine_tune_succeeds_with_the_documented_events(ftemu: Ftemu) -> None:
    job = create_fine_tune(ftemu, n_epochs=2)
    running = ftemu.wait_for_fine_tune(job["id"], {"running", "succeeded"})
    done = ftemu.wait_for_fine_tune(job["id"], {"succeeded"})
    if running["status"] == "running":
        assert messages(running)[-1].startswith(("Fine-tune started", "Completed epoch"))
    patterns = [
        f"Created fine-tune: {job['id']}",
        r"Fine-tune costs \$\d+\.\d\d",
        r"Fine-tune enqueued\. Queue number: 0",
        "Fine-tune started",
        "Completed epoch 1/2",
        "Completed epoch 2/2",
        rf"Uploaded model: ada:ft-[a-z0-9-]+-{STAMP}",
        r"Uploaded result file: file-[A-Za-z0-9]{24}",
        "Fine-tune succeeded",
    ]
    got = messages(done)
    assert len(got) == len(patterns), got
    for message, pattern in zip(got, patterns, strict=True):
        assert re.fullmatch(pattern, message), (message, pattern)
    times = [event["created_at"] for event in done["events"]]
    assert times == sorted(times) and done["updated_at"] == times[-1]
    assert all(event["level"] == "info" for event in done["events"])


@behaviour("§2.8, §4", "Once processed, batch_size and learning_rate_multiplier are filled in")
def test_fine_tune_fills_in_computed_hyperparams(ftemu: Ftemu) -> None:
    job = ftemu.wait_for_fine_tune(create_fine_tune(ftemu)["id"], {"succeeded"})
    assert job["hyperparams"]["batch_size"] == 1
    assert job["hyperparams"]["learning_rate_multiplier"] == 0.1


@behaviour(
    "§2.7",
    "Listing fine-tunes gives `{object: list, data}`, items without `events`, oldest first (order: ftemu's choice)",
)
def test_list_fine_tunes_without_events(ftemu: Ftemu) -> None:
    first, second = create_fine_tune(ftemu)["id"], create_fine_tune(ftemu)["id"]
    body = ftemu.http.get("/fine-tunes").json()
    assert list(body) == ["object", "data"] and body["object"] == "list"
    ids = [job["id"] for job in body["data"]]
    assert ids.index(first) < ids.index(second)
    assert all(list(job) == FINE_TUNE_KEYS[:-1] for job in body["data"])


@behaviour("§9.2", "An unknown fine-tune id is a 404 `No such fine-tune: <id>` (wording unconfirmed; ftemu's choice)")
def test_retrieve_fine_tune_unknown_is_404(ftemu: Ftemu) -> None:
    assert_error(ftemu.http.get("/fine-tunes/ft-nope"), 404, "No such fine-tune: ft-nope", param="id")


@behaviour("§9.2", "An unknown base model is refused with the `Invalid base model` message naming the org")
def test_create_fine_tune_invalid_base_model(ftemu: Ftemu) -> None:
    file_id = training_file(ftemu)
    response = ftemu.http.post("/fine-tunes", json={"training_file": file_id, "model": "gpt-3.5-turbo"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert re.fullmatch(
        r"Invalid base model: gpt-3\.5-turbo \(model must be one of ada, babbage, curie, davinci\) "
        r"or a fine-tuned model created by your organization: org-[A-Za-z0-9]+",
        error["message"],
    )
    assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", "model", None)


@behaviour(
    "§9.2",
    "A missing training_file is refused: `'training_file' is a required property` (validator style; unconfirmed)",
)
def test_create_fine_tune_missing_training_file(ftemu: Ftemu) -> None:
    assert_error(
        ftemu.http.post("/fine-tunes", json={"model": "ada"}),
        400,
        "'training_file' is a required property",
        param="training_file",
    )


@behaviour("§4", "A suffix longer than 40 characters is refused (validator wording; unconfirmed)")
def test_create_fine_tune_suffix_too_long(ftemu: Ftemu) -> None:
    suffix = "x" * 41
    assert_error(
        ftemu.http.post("/fine-tunes", json={"training_file": training_file(ftemu), "suffix": suffix}),
        400,
        f"'{suffix}' is too long - 'suffix'",
        param="suffix",
    )


@behaviour("§2.9", "Cancelling a pending job returns it `cancelled` with a `Fine-tune cancelled` event")
def test_cancel_fine_tune_pending(ftemu: Ftemu) -> None:
    job = create_fine_tune(ftemu)
    response = ftemu.http.post(f"/fine-tunes/{job['id']}/cancel")
    assert response.status_code == 200
    cancelled = response.json()
    assert list(cancelled) == FINE_TUNE_KEYS and cancelled["status"] == "cancelled"
    assert messages(cancelled)[-1] == "Fine-tune cancelled"
    assert cancelled["updated_at"] >= job["updated_at"] and cancelled["fine_tuned_model"] is None
    assert ftemu.stream_events(job["id"])[-1] == "[DONE]"


@behaviour("§2.9", "Cancelling a finished job is refused with a 400 (ftemu's wording; the real one is unknown)")
def test_cancel_fine_tune_finished_is_400(ftemu: Ftemu) -> None:
    job = ftemu.wait_for_fine_tune(create_fine_tune(ftemu)["id"], {"succeeded"})
    assert_error(
        ftemu.http.post(f"/fine-tunes/{job['id']}/cancel"),
        400,
        f"Cannot cancel a fine-tune that has already succeeded: {job['id']}",
        param="id",
    )


@pytest.mark.emulator_only
@behaviour(
    "§3.2",
    "A failed job (scripted) ends `failed` with an error-level `Fine-tune failed` event (wording: ftemu's choice)",
)
def test_fine_tune_fails(ftemu: Ftemu) -> None:
    job = create_fine_tune(ftemu)
    failed = ftemu.fail(job["id"], "out of capacity")
    assert failed["status"] == "failed" and failed["fine_tuned_model"] is None
    assert failed["events"][-1]["message"] == "Fine-tune failed: out of capacity"
    assert failed["events"][-1]["level"] == "error"
    assert ftemu.fine_tune(job["id"])["status"] == "failed"
    assert ftemu.stream_events(job["id"])[-1] == "[DONE]"


@pytest.mark.emulator_only
@pytest.mark.ftemu(speed="60", clock="manual")
@behaviour("§3.2", "A second job waits its turn: `Queue number: 1`, then `Fine-tune is in the queue. Queue number: 0`")
def test_fine_tune_queue_numbers(ftemu: Ftemu) -> None:
    first, second = create_fine_tune(ftemu), create_fine_tune(ftemu)
    ftemu.wait_for_fine_tune(first["id"], {"succeeded"})
    got = messages(ftemu.wait_for_fine_tune(second["id"], {"succeeded"}))
    assert "Fine-tune enqueued. Queue number: 1" in got
    assert got.index("Fine-tune is in the queue. Queue number: 0") < got.index("Fine-tune started")


@behaviour(
    "§2.15",
    "`DELETE /fine-tunes/{id}` (the CLI's fine_tunes.delete) is not an endpoint: `Invalid URL` (likely; unconfirmed)",
)
def test_delete_fine_tune_is_invalid_url(ftemu: Ftemu) -> None:
    job = create_fine_tune(ftemu)
    path = f"/v1/fine-tunes/{job['id']}"
    assert_error(ftemu.http.delete(f"/fine-tunes/{job['id']}"), 404, f"Invalid URL (DELETE {path})")


@behaviour("§2.6", "Classification parameters appear in `hyperparams` (the one not given as null)")
def test_create_fine_tune_classification_hyperparams(ftemu: Ftemu) -> None:
    validation = training_file(ftemu, 5)
    job = create_fine_tune(
        ftemu, validation_file=validation, compute_classification_metrics=True, classification_positive_class=" City1\n"
    )
    assert job["hyperparams"]["compute_classification_metrics"] is True
    assert job["hyperparams"]["classification_positive_class"] == " City1\n"
    assert job["hyperparams"]["classification_n_classes"] is None
    assert [f["id"] for f in job["validation_files"]] == [validation]
