"""A legacy job's file is prepared off the event loop: the create answers, the job waits in processing meanwhile."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest
from starlette.applications import Starlette

from emulator.core import counting
from emulator.legacy import fine_tunes, preparation
from emulator.legacy.lifecycle import pack_counts, results_stash, unpack_counts
from emulator.legacy.preparation import Preparations
from emulator.legacy.training_file import Example, parse_line, read_examples
from tests.conftest import capitals, in_process, upload
from tests.emulator.legacy.lifecycle import advance, get_job, messages, run_to_end
from tests.preparations import held_preparations


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Every create answers without waiting, and preparations wait until the gate opens."""
    yield from held_preparations(monkeypatch, Preparations, fine_tunes)


def preparation_of(app: Starlette, job_id: str) -> Future[None]:
    lifecycle = fine_tunes.lifecycle(app.state.core)
    record = app.state.core.store.find_fine_tune(job_id)
    assert lifecycle.prepare is not None and record is not None
    return lifecycle.prepare(record)


def test_create_fine_tune_big_file_answers_while_processing(
    make_app: Callable[..., Starlette], gate: threading.Event
) -> None:
    app = make_app()
    http = in_process(app)
    file_id = upload(http, capitals(100))["id"]
    created = http.post("/fine-tunes", json={"training_file": file_id})
    assert created.status_code == 200
    job = created.json()
    assert job["status"] == "pending" and messages(job) == [f"Created fine-tune: {job['id']}"]
    # Other requests are served meanwhile, and no amount of clock moves the job out of processing.
    assert http.get("/models").status_code == 200
    advance(http, 10 * 3600)
    assert get_job(http, job["id"])["status"] == "pending"
    assert [j["status"] for j in http.get("/fine-tunes").json()["data"]] == ["pending"]
    gate.set()
    preparation_of(app, job["id"]).result(timeout=30)
    done = run_to_end(http, job["id"])
    assert done["status"] == "succeeded" and messages(done)[1].startswith("Fine-tune costs $")


def test_cancel_fine_tune_while_it_is_prepared(make_app: Callable[..., Starlette], gate: threading.Event) -> None:
    app = make_app()
    http = in_process(app)
    job = http.post("/fine-tunes", json={"training_file": upload(http, capitals(20))["id"]}).json()
    assert http.post(f"/fine-tunes/{job['id']}/cancel").json()["status"] == "cancelled"
    gate.set()
    preparation_of(app, job["id"]).result(timeout=30)
    advance(http, 10 * 3600)
    assert messages(get_job(http, job["id"]))[-1] == "Fine-tune cancelled"


def test_fine_tune_prepared_after_a_restart(
    make_app: Callable[..., Starlette], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fine_tunes, "AWAIT_PREPARATION_BYTES", 0)
    monkeypatch.setattr(fine_tunes, "PREPARE_HERE_BYTES", 0)
    first = make_app(memory=False, data_dir=str(tmp_path))
    never: Future[None] = Future()
    fine_tunes.lifecycle(first.state.core).prepare = lambda job: never  # the server stops before it prepares
    http = in_process(first)
    job = http.post("/fine-tunes", json={"training_file": upload(http, capitals(30))["id"]}).json()
    first.state.core.close()
    second = make_app(memory=False, data_dir=str(tmp_path))
    again = in_process(second)
    assert get_job(again, job["id"])["status"] == "pending"  # its first look starts the preparation
    preparation_of(second, job["id"]).result(timeout=30)
    assert run_to_end(again, job["id"])["status"] == "succeeded"
    examples = second.state.core.store.list_fine_tune_examples(job["id"])
    assert examples == [(row["prompt"], row["completion"]) for row in capitals(30)]


def test_fine_tune_examples_kept_in_order_across_insert_batches(
    make_app: Callable[..., Starlette], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(preparation, "INSERT_BATCH", 7)
    app = make_app()
    http = in_process(app)
    job = http.post("/fine-tunes", json={"training_file": upload(http, capitals(50))["id"]}).json()
    examples = app.state.core.store.list_fine_tune_examples(job["id"])
    assert examples == [(row["prompt"], row["completion"]) for row in capitals(50)]


def test_small_file_is_prepared_before_the_create_answers(make_app: Callable[..., Starlette]) -> None:
    http = in_process(make_app(speed="instant"))
    job = http.post("/fine-tunes", json={"training_file": upload(http, capitals(10))["id"]}).json()
    assert job["status"] == "succeeded"


def test_plan_token_counts_pack_and_unpack() -> None:
    counts = [0, 1, 2049, 4_000_000_000]
    assert unpack_counts(pack_counts(counts)) == counts
    assert unpack_counts([3, 4]) == [3, 4]  # plans stored before packing


def test_read_examples_bulk_parse_equals_the_line_by_line_parse() -> None:
    lines = [
        b'{"prompt": "a", "completion": "b"}',
        b"",
        b'  {"prompt": "c\\u00e9", "completion": "", "extra": 1}\r',
        b'{"prompt": 1, "completion": "x"}',  # not an example: skipped, as the line parse skips it
        b'{"prompt": "d", "completion": "e"}',
    ]
    data = b"\n".join(lines)
    expected = [e for n, raw in enumerate(lines, 1) if isinstance(e := parse_line(n, raw), Example)]
    for size in (1, 7, 40, len(data)):
        chunks = [data[i : i + size] for i in range(0, len(data), size)]
        assert list(read_examples(chunks)) == expected


@pytest.mark.parametrize("memory", [True, False])
def test_results_file_written_ahead_equals_the_one_written_at_the_step(
    make_app: Callable[..., Starlette], tmp_path: Path, memory: bool
) -> None:
    contents = []
    for keep_stash in (True, False):
        app = make_app(memory=memory, data_dir=str(tmp_path / str(keep_stash)))
        http = in_process(app)
        job = http.post("/fine-tunes", json={"training_file": upload(http, capitals(40))["id"]}).json()
        blobs, stash = app.state.core.blobs, results_stash(job["id"])
        assert blobs.exists(stash)  # its preparation wrote it
        if not keep_stash:
            blobs.delete(stash)
        done = run_to_end(http, job["id"])
        assert not blobs.exists(stash)
        contents.append(http.get(f"/files/{done['result_files'][0]['id']}/content").content)
    assert contents[0] == contents[1] and contents[0].startswith(b"step,elapsed_tokens")


def test_cancelled_job_leaves_no_results_written_ahead(make_app: Callable[..., Starlette]) -> None:
    app = make_app()
    http = in_process(app)
    job = http.post("/fine-tunes", json={"training_file": upload(http, capitals(10))["id"]}).json()
    http.post(f"/fine-tunes/{job['id']}/cancel")
    assert not app.state.core.blobs.exists(results_stash(job["id"]))


def test_create_fine_tune_small_file_prepared_by_its_create(make_app: Callable[..., Starlette]) -> None:
    """A small file needs no worker: the create answers with the job's plan stored."""
    app = make_app()
    http = in_process(app)
    job = http.post("/fine-tunes", json={"training_file": upload(http, capitals(20))["id"]}).json()
    lifecycle = fine_tunes.lifecycle(app.state.core)
    record = app.state.core.store.find_fine_tune(job["id"])
    assert lifecycle.prepare is not None and record is not None
    assert preparation.prepared(record.plan)
    assert lifecycle.prepare(record).done()  # prepared once: asking again starts nothing
    assert run_to_end(http, job["id"])["status"] == "succeeded"


@pytest.fixture
def counted_in_a_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file's tokens are counted by a worker process (as a big file's are)."""
    monkeypatch.setattr(preparation, "CACHED_FILE_EXAMPLES", 0)
    monkeypatch.setattr(counting, "PROCESS_CHARACTERS", 1)


def test_tokens_counted_in_a_process_make_the_same_job(
    make_app: Callable[..., Starlette], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cost, events, results file and model are the same whichever process counted the tokens."""
    made = []
    for elsewhere in (False, True):
        if elsewhere:
            monkeypatch.setattr(preparation, "CACHED_FILE_EXAMPLES", 0)
            monkeypatch.setattr(counting, "PROCESS_CHARACTERS", 1)
        http = in_process(make_app())
        job = http.post("/fine-tunes", json={"training_file": upload(http, capitals(60))["id"]}).json()
        done = run_to_end(http, job["id"])
        results = http.get(f"/files/{done['result_files'][0]['id']}/content").content
        answer = http.post("/completions", json={"model": done["fine_tuned_model"], "prompt": "Kenya ->"}).json()
        made.append((messages(done), results, answer["choices"][0]["text"]))
    assert made[0] == made[1]


@pytest.mark.usefixtures("counted_in_a_process")
def test_too_long_example_counted_in_a_process_fails_the_job_and_keeps_no_index(
    make_app: Callable[..., Starlette], tmp_path: Path
) -> None:
    app = make_app(memory=False, data_dir=str(tmp_path))
    http = in_process(app)
    rows = [*capitals(20), {"prompt": "long ->", "completion": " word" * 2100}]
    job = http.post("/fine-tunes", json={"training_file": upload(http, rows)["id"]}).json()
    done = run_to_end(http, job["id"])
    assert done["status"] == "failed"
    assert "contains an example on line 21 that is" in messages(done)[-1]
    assert len(app.state.core.tuned_models) == 0
    indexes = tmp_path / "indexes"
    assert not indexes.exists() or not any(indexes.iterdir())
