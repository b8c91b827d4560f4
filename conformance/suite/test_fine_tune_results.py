"""What a finished job leaves (§5-§7): the model name, retraining, the cost event, compiled_results.csv."""

from __future__ import annotations

import calendar
import csv
import io
import re
import time

import pytest

from conformance.handle import Ftemu
from conformance.suite.support import capitals, create_fine_tune, messages, training_file
from emulator.core.tokens import r50k_base

behaviour = pytest.mark.behaviour
pytestmark = [pytest.mark.ftemu(speed="60"), pytest.mark.spend(0.01)]
STAMP = r"\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d"


@behaviour("§5", "The model name is `{base}:ft-{org}-{UTC time}` and equals the `Uploaded model` event")
def test_fine_tune_model_name(ftemu: Ftemu) -> None:
    job = ftemu.wait_for_fine_tune(create_fine_tune(ftemu)["id"], {"succeeded"})
    name = job["fine_tuned_model"]
    assert re.fullmatch(rf"ada:ft-[a-z0-9-]+-{STAMP}", name) and ":" not in name[4:].split("-", 1)[0]
    uploaded = next(e for e in job["events"] if e["message"].startswith("Uploaded model: "))
    assert uploaded["message"] == f"Uploaded model: {name}"
    assert 0 <= uploaded["created_at"] - calendar.timegm(time.strptime(name[-19:], "%Y-%m-%d-%H-%M-%S")) <= 1


@behaviour("§4, §5", "A suffix is lower-cased, punctuation and spaces become one dash: `{base}:ft-{org}:{suffix}-`")
def test_fine_tune_model_name_with_suffix(ftemu: Ftemu) -> None:
    job = ftemu.wait_for_fine_tune(create_fine_tune(ftemu, suffix="My custom  model!")["id"], {"succeeded"})
    assert re.fullmatch(rf"ada:ft-[a-z0-9-]+:my-custom-model--?{STAMP}", job["fine_tuned_model"])


@behaviour("§7", "A succeeded job has one `compiled_results.csv` result file with the documented columns")
def test_fine_tune_results_file(ftemu: Ftemu) -> None:
    job = ftemu.wait_for_fine_tune(create_fine_tune(ftemu, n_epochs=1)["id"], {"succeeded"})
    (result,) = job["result_files"]
    assert (result["purpose"], result["filename"], result["status"]) == (
        "fine-tune-results",
        "compiled_results.csv",
        "processed",
    )
    assert f"Uploaded result file: {result['id']}" in messages(job)
    text = ftemu.http.get(f"/files/{result['id']}/content").text
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [
        "step",
        "elapsed_tokens",
        "elapsed_examples",
        "training_loss",
        "training_sequence_accuracy",
        "training_token_accuracy",
    ]
    steps = [int(row[0]) for row in rows[1:]]
    assert steps == list(range(1, len(steps) + 1)) and steps
    assert result["id"] in [f["id"] for f in ftemu.http.get("/files").json()["data"]]


@behaviour("§7", "With a validation file the results add the three validation columns")
def test_fine_tune_results_with_validation(ftemu: Ftemu) -> None:
    job = create_fine_tune(ftemu, n_epochs=1, validation_file=training_file(ftemu, 5))
    job = ftemu.wait_for_fine_tune(job["id"], {"succeeded"})
    text = ftemu.http.get(f"/files/{job['result_files'][0]['id']}/content").text
    assert text.splitlines()[0].endswith(",validation_loss,validation_sequence_accuracy,validation_token_accuracy")


@behaviour(
    "§5",
    "Retraining from a fine-tuned model: job keeps its name, new name keeps the base, lr halved (ftemu's choices)",
)
def test_create_fine_tune_from_a_fine_tuned_model(ftemu: Ftemu) -> None:
    first = ftemu.wait_for_fine_tune(create_fine_tune(ftemu)["id"], {"succeeded"})["fine_tuned_model"]
    job = create_fine_tune(ftemu, model=first)
    assert job["model"] == first
    done = ftemu.wait_for_fine_tune(job["id"], {"succeeded"})
    assert done["fine_tuned_model"].startswith("ada:ft-") and done["fine_tuned_model"] != first
    assert done["hyperparams"]["learning_rate_multiplier"] == 0.05


@behaviour("§7", "Binary classification metrics add accuracy, precision, recall, auroc, auprc and f1.0 columns")
def test_fine_tune_results_with_classification_metrics(ftemu: Ftemu) -> None:
    job = create_fine_tune(
        ftemu,
        n_epochs=1,
        validation_file=training_file(ftemu, 5),
        compute_classification_metrics=True,
        classification_positive_class=" City1\n",
    )
    job = ftemu.wait_for_fine_tune(job["id"], {"succeeded"})
    header = ftemu.http.get(f"/files/{job['result_files'][0]['id']}/content").text.splitlines()[0].split(",")
    for column in (
        "classification/accuracy",
        "classification/precision",
        "classification/recall",
        "classification/auroc",
        "classification/auprc",
        "classification/f1.0",
    ):
        assert column in header


@pytest.mark.spend(0.05)
@behaviour(
    "§6",
    "`Fine-tune costs $X.XX` = training tokens (r50k) × n_epochs × the model's price per 1K tokens, rounded half up",
)
def test_fine_tune_cost_event(ftemu: Ftemu) -> None:
    encoding = r50k_base()
    tokens = sum(len(encoding.encode(row["prompt"])) + len(encoding.encode(row["completion"])) for row in capitals(20))
    job = ftemu.wait_for_fine_tune(create_fine_tune(ftemu, model="davinci", n_epochs=2)["id"], {"succeeded"})
    cents = int(tokens * 2 * 0.03 / 1000 * 100 + 0.5)
    assert f"Fine-tune costs ${cents // 100}.{cents % 100:02d}" in messages(job)
