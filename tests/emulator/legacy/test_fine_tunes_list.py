"""GET /v1/fine-tunes renders each job once per version: every item must follow every change, byte for byte."""

from __future__ import annotations

from typing import Any

import httpx

from emulator.http.pagination import json_text
from tests.conftest import capitals, upload
from tests.emulator.legacy.lifecycle import advance, create_job, run_to_end


def assert_listed_as_retrieved(http: httpx.Client) -> list[dict[str, Any]]:
    """The list's bytes are those of every job as retrieved now, without its events, in creation order."""
    listed = http.get("/fine-tunes")
    expected = []
    for item in listed.json()["data"]:
        job = http.get(f"/fine-tunes/{item['id']}").json()
        del job["events"]
        expected.append(job)
    assert listed.content == json_text({"object": "list", "data": expected}).encode()
    assert listed.headers["content-type"] == "application/json"
    return expected


def test_list_fine_tunes_follows_each_transition(client: httpx.Client) -> None:
    first = create_job(client, n_epochs=2, learning_rate_multiplier=0.05)["id"]
    second = create_job(client, model="ada", suffix="two")["id"]
    seen = {}
    for _ in range(12):
        jobs = assert_listed_as_retrieved(client)
        seen.update({(job["id"], job["status"], job["updated_at"]): job for job in jobs})
        advance(client, 600)
    jobs = assert_listed_as_retrieved(client)
    assert [job["status"] for job in jobs] == ["succeeded", "succeeded"]
    assert len({key[:2] for key in seen}) >= 4  # each job was listed pending and running at least
    assert all(job["result_files"] and job["fine_tuned_model"] for job in jobs)
    assert jobs[0]["hyperparams"]["batch_size"] is not None  # set when its processing ended
    assert [job["id"] for job in jobs] == [first, second]


def test_list_fine_tunes_follows_a_cancel(client: httpx.Client) -> None:
    job_id = create_job(client)["id"]
    advance(client, 2)
    assert assert_listed_as_retrieved(client)[0]["status"] in ("pending", "running")
    assert client.post(f"/fine-tunes/{job_id}/cancel").status_code == 200
    assert assert_listed_as_retrieved(client)[0]["status"] == "cancelled"


def test_list_fine_tunes_follows_deleted_files_and_models(client: httpx.Client) -> None:
    training = upload(client, capitals(40))["id"]
    validation = upload(client, capitals(12), name="valid.jsonl")["id"]
    job = client.post("/fine-tunes", json={"training_file": training, "validation_file": validation}).json()
    done = run_to_end(client, job["id"])
    assert assert_listed_as_retrieved(client)[0]["fine_tuned_model"] == done["fine_tuned_model"]
    assert client.delete(f"/files/{validation}").status_code == 200
    assert assert_listed_as_retrieved(client)[0]["validation_files"][0]["status"] == "deleted"
    assert client.delete(f"/files/{done['result_files'][0]['id']}").status_code == 200
    assert assert_listed_as_retrieved(client)[0]["result_files"][0]["status"] == "deleted"
    listed_models = [model["id"] for model in client.get("/models").json()["data"]]
    assert done["fine_tuned_model"] in listed_models
    assert client.delete(f"/models/{done['fine_tuned_model']}").status_code == 200
    assert assert_listed_as_retrieved(client)[0]["fine_tuned_model"] == done["fine_tuned_model"]
    assert [model["id"] for model in client.get("/models").json()["data"]] == [
        name for name in listed_models if name != done["fine_tuned_model"]
    ]
