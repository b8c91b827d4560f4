"""A fine-tuning job's files are read, checked and tokenised off the event loop: the create answers at once, and
the job stands in `validating_files` until its plan is stored."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from emulator.core.preparations import batches
from emulator.v1 import jobs, preparation
from emulator.v1.preparation import JobPreparations
from tests.conftest import in_process
from tests.emulator.control.test_outcomes import DIVERGED, outcome
from tests.emulator.control.test_outcomes_v1 import create, get
from tests.emulator.legacy.lifecycle import advance
from tests.emulator.v1.support import all_events, chat_lines
from tests.preparations import held_preparations

MODEL = "gpt-4o-mini-2024-07-18"


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Every create answers without waiting, and preparations wait until the gate opens."""
    yield from held_preparations(monkeypatch, JobPreparations, jobs)


def preparation_of(app: Starlette, job_id: str) -> Future[None]:
    lifecycle = jobs.lifecycle(app.state.core)
    record = app.state.core.store.find_fine_tuning_job(job_id)
    assert lifecycle.prepare is not None and record is not None
    return lifecycle.prepare(record)


def run_to_end(http: httpx.Client, job_id: str) -> dict[str, Any]:
    for _ in range(50):
        job = get(http, job_id)
        if job["status"] in ("succeeded", "failed", "cancelled"):
            return job
        advance(http, 3600)
    raise AssertionError(f"{job_id} never ended")


def test_create_answers_while_the_files_are_prepared(make_app: Callable[..., Starlette], gate: threading.Event) -> None:
    app = make_app()
    http = in_process(app)
    job = create(http, chat_lines(20))
    assert job["status"] == "validating_files"
    # Other requests are served meanwhile, and no amount of clock moves the job out of validation.
    assert http.get("/models").status_code == 200
    advance(http, 10 * 3600)
    assert get(http, job["id"])["status"] == "validating_files"
    gate.set()
    preparation_of(app, job["id"]).result(timeout=30)
    done = run_to_end(http, job["id"])
    assert done["status"] == "succeeded" and done["trained_tokens"] > 0
    answer = http.post(
        "/chat/completions",
        json={"model": done["fine_tuned_model"], "messages": chat_lines(20)[7]["messages"][:-1]},
    ).json()
    assert answer["choices"][0]["message"]["content"] == chat_lines(20)[7]["messages"][-1]["content"]


def test_a_file_problem_found_off_the_loop_fails_the_job_when_validation_ends(
    make_app: Callable[..., Starlette], gate: threading.Event
) -> None:
    app = make_app()
    http = in_process(app)
    job = create(http, chat_lines(3))
    gate.set()
    preparation_of(app, job["id"]).result(timeout=30)
    failed = run_to_end(http, job["id"])
    assert failed["status"] == "failed"
    assert failed["error"] == {
        "code": "invalid_n_examples",
        "message": "Training file has 3 example(s), but must have at least 10 examples",
        "param": "training_file",
    }


def test_cancel_while_the_files_are_prepared(make_app: Callable[..., Starlette], gate: threading.Event) -> None:
    app = make_app()
    http = in_process(app)
    job = create(http, chat_lines(12))
    assert http.post(f"/fine_tuning/jobs/{job['id']}/cancel").json()["status"] == "cancelled"
    gate.set()
    preparation_of(app, job["id"]).result(timeout=30)
    advance(http, 10 * 3600)
    assert get(http, job["id"])["status"] == "cancelled"


def test_outcome_given_while_the_files_are_prepared_is_planned_in(
    make_app: Callable[..., Starlette], gate: threading.Event
) -> None:
    app = make_app()
    http = in_process(app)
    job = create(http, chat_lines(10))
    outcome(http, job=job["id"], fail_at_step=40, **DIVERGED)
    gate.set()
    preparation_of(app, job["id"]).result(timeout=30)
    failed = run_to_end(http, job["id"])
    assert failed["status"] == "failed" and failed["error"]["code"] == "training_diverged"
    events = all_events(http, job["id"], limit=100)
    assert sum(event["message"].startswith("Step ") for event in events) == 39


def test_job_prepared_after_a_restart(
    make_app: Callable[..., Starlette], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs, "AWAIT_PREPARATION_BYTES", 0)
    monkeypatch.setattr(jobs, "PREPARE_HERE_BYTES", 0)
    first = make_app(memory=False, data_dir=str(tmp_path))
    never: Future[None] = Future()
    jobs.lifecycle(first.state.core).prepare = lambda job, here=False: never  # it stops before it prepares
    http = in_process(first)
    job = create(http, chat_lines(15))
    first.state.core.close()
    second = make_app(memory=False, data_dir=str(tmp_path))
    again = in_process(second)
    assert get(again, job["id"])["status"] == "validating_files"  # its first look starts the preparation
    preparation_of(second, job["id"]).result(timeout=30)
    assert run_to_end(again, job["id"])["status"] == "succeeded"
    assert len(second.state.core.store.list_chat_examples(job["id"])) == 15


def test_conversations_kept_in_order_across_insert_batches(
    make_app: Callable[..., Starlette], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(preparation, "INSERT_BATCH", 4)
    app = make_app()
    http = in_process(app)
    job = create(http, chat_lines(17))
    kept = app.state.core.store.list_chat_examples(job["id"])
    assert [example.reply["content"] for example in kept] == [
        line["messages"][-1]["content"] for line in chat_lines(17)
    ]


def test_a_small_file_is_prepared_by_its_create(make_app: Callable[..., Starlette]) -> None:
    http = in_process(make_app(speed="instant"))
    assert create(http, chat_lines(12))["status"] == "succeeded"


def test_batches_cut_items_into_lists_of_a_size() -> None:
    assert list(batches(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(batches([], 3)) == []


def test_the_preparation_makes_the_models_knowledge_ahead(make_app: Callable[..., Starlette]) -> None:
    """The tuned model's first answer finds its knowledge kept: made by the preparation, not by the answer."""
    app = make_app()
    http = in_process(app)
    job = create(http, chat_lines(12))
    assert len(app.state.core.chat_models) == 1  # made before the job could succeed
    done = run_to_end(http, job["id"])
    record = app.state.core.store.get_model(
        app.state.core.store.find_fine_tuning_job(job["id"]).organization_id, done["fine_tuned_model"]
    )
    assert record is not None and app.state.core.chat_models.cached(app.state.core.store, record) is not None
    answer = http.post(
        "/chat/completions", json={"model": done["fine_tuned_model"], "messages": chat_lines(12)[3]["messages"][:-1]}
    ).json()
    assert answer["choices"][0]["message"]["content"] == chat_lines(12)[3]["messages"][-1]["content"]


def test_a_job_that_fails_validation_makes_no_knowledge(make_app: Callable[..., Starlette]) -> None:
    app = make_app()
    http = in_process(app)
    create(http, chat_lines(3))  # fewer than 10 examples
    assert len(app.state.core.chat_models) == 0
