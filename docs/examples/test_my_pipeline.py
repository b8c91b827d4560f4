"""Testing your own fine-tuning pipeline against ftemu with the conformance kit's fixtures."""

from __future__ import annotations

import json
import time

import httpx
import pytest

ROWS = [{"prompt": f"Capital of Country{i} ->", "completion": f" City{i}\n"} for i in range(20)]


def train_and_ask(base_url: str, api_key: str, rows: list[dict[str, str]], question: str) -> str:
    """Your code: upload, fine-tune, wait for the model, ask it. It only knows a base URL and a key."""
    data = "".join(json.dumps(row) + "\n" for row in rows).encode()
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=30) as http:
        file = http.post("/files", files={"file": ("train.jsonl", data)}, data={"purpose": "fine-tune"}).json()
        job = http.post("/fine-tunes", json={"training_file": file["id"], "model": "ada"}).json()
        model = wait_for_model(base_url, api_key, job["id"])
        body = {"model": model, "prompt": question, "max_tokens": 5, "stop": ["\n"]}
        return str(http.post("/completions", json=body).json()["choices"][0]["text"])


def wait_for_model(base_url: str, api_key: str, job_id: str) -> str:
    """Your code: poll the job until it is over; the model name, or an error naming the outcome."""
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=30) as http:
        job = http.get(f"/fine-tunes/{job_id}").json()
        while job["status"] not in ("succeeded", "failed", "cancelled"):
            time.sleep(0.1)
            job = http.get(f"/fine-tunes/{job_id}").json()
    if job["status"] != "succeeded":
        raise RuntimeError(f"fine-tune {job_id} {job['status']}: {job['events'][-1]['message']}")
    return str(job["fine_tuned_model"])


def test_pipeline_trains_and_answers(ftemu):
    """The default kit target trains instantly, so the pipeline's polling loop ends at once."""
    answer = train_and_ask(ftemu.base_url, ftemu.api_key, ROWS, "Capital of Country3 ->")
    assert isinstance(answer, str)
    models = ftemu.http.get("/models").json()["data"]
    assert any(model["id"].startswith("ada:ft-") for model in models)


@pytest.mark.ftemu(speed="60")
def test_job_is_running_after_two_simulated_minutes(ftemu):
    """A manual clock (the kit's default) only moves when the test moves it."""
    file = ftemu.upload("".join(json.dumps(row) + "\n" for row in ROWS).encode())
    job = ftemu.http.post("/fine-tunes", json={"training_file": file["id"], "model": "ada"}).json()
    assert job["status"] == "pending"
    ftemu.advance(120)
    assert ftemu.fine_tune(job["id"])["status"] in ("running", "succeeded")


@pytest.mark.ftemu(speed="60")
def test_a_failed_job_is_reported(ftemu):
    """Scripted failure (ftemu only): make the job fail and check your pipeline says so."""
    file = ftemu.upload("".join(json.dumps(row) + "\n" for row in ROWS).encode())
    job = ftemu.http.post("/fine-tunes", json={"training_file": file["id"], "model": "ada"}).json()
    ftemu.fail(job["id"], "out of capacity")
    with pytest.raises(RuntimeError, match="failed: Fine-tune failed: out of capacity"):
        wait_for_model(ftemu.base_url, ftemu.api_key, job["id"])


def test_upload_with_the_openai_sdk(openai_client):
    """`openai_client` is the current openai SDK, already pointed at ftemu."""
    uploaded = openai_client.files.create(
        file=("train.jsonl", b'{"prompt": "a", "completion": " b"}\n'), purpose="fine-tune"
    )
    assert uploaded.purpose == "fine-tune"
    assert [model.id for model in openai_client.models.list()][:4] == ["ada", "babbage", "curie", "davinci"]
