"""Issue 13: how each cost grows with the store (in-process, the app over ASGI): 1x, 10x, 100x.

Rows: listing files, jobs (bare, and succeeded with their files) and models, an event list, a job's
create-to-succeeded and its index, and start-up (opening a store that holds the 100x data). Each figure is the
median of several calls; the growth columns are the ratios to the 1x figure (10x and 100x more data). Printed as
the markdown table docs/performance.md shows.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from starlette.applications import Starlette
from starlette.testclient import TestClient

from bench.common import AUTH
from bench.data import training_jsonl
from emulator import Settings, create_app
from emulator.core.container import Core
from emulator.store import FileRecord, ModelRecord, NewFineTune, Store

SIZES = (10, 100, 1000)


def median_ms(call: Callable[[], object], runs: int = 15) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def fill(core: Core, kind: str, count: int) -> str:
    """`count` rows of a kind for the default organisation; returns a job id (for events)."""
    org = core.auth.default
    store = core.store
    job_id = store.next_id("ft-")
    store.insert_fine_tune(
        NewFineTune(job_id, org.id, "ada", "ada", None, {"n_epochs": 1}, [], [], 0.0, 0, "succeeded", {"x": 1})
    )
    for number in range(count):
        if kind == "files":
            store.insert_file(
                FileRecord(f"file-{number}", org.id, "fine-tune", "a.jsonl", 10, 0, "processed", None, False)
            )
        elif kind == "jobs":
            plan = {"processing": 0.0, "start_delay": 0.0, "steps": [], "example_tokens": "AAAA"}
            store.insert_fine_tune(
                NewFineTune(
                    f"ft-{number}", org.id, "ada", "ada", None, {"n_epochs": 1}, [], [], 0.0, 0, "succeeded", plan
                )
            )
        elif kind == "finished jobs":  # as a succeeded job lists: its training and results files, its model
            finished(store, org.id, f"ft-{number}")
        elif kind == "events":
            store.add_event(job_id, f"event {number}", 0)
        elif kind == "models":
            store.insert_model(ModelRecord(f"ada:ft-o-{number}", org.id, 0, "ada", "ada", job_id, f"p{number}", False))
    return job_id


def finished(store: Store, org_id: str, job_id: str) -> None:
    """A succeeded legacy job with a results file and a model (all jobs share one training file)."""
    if store.get_file(org_id, "file-training") is None:
        store.insert_file(FileRecord("file-training", org_id, "fine-tune", "t.jsonl", 900, 0, "processed", None, False))
    hyperparams = {"n_epochs": 4, "batch_size": 1, "prompt_loss_weight": 0.01, "learning_rate_multiplier": 0.1}
    results = FileRecord(
        f"file-{job_id}", org_id, "fine-tune-results", "compiled_results.csv", 500, 0, "processed", None, False
    )
    store.insert_file(results)
    store.insert_fine_tune(
        NewFineTune(
            job_id, org_id, "curie", "curie", None, hyperparams, ["file-training"], [], 0.0, 0, "succeeded", {"x": 1}
        )
    )
    store.update_fine_tune(job_id, result_file_ids=[results.id], fine_tuned_model=f"curie:ft-{job_id}")
    store.insert_model(ModelRecord(f"curie:ft-{job_id}", org_id, 0, "curie", "curie", job_id, f"p-{job_id}", False))


def request_row(kind: str, path: Callable[[str], str]) -> list[float]:
    figures = []
    for count in SIZES:
        app = create_app(Settings(memory=True, seed=1))
        job_id = fill(app.state.core, kind, count)
        with TestClient(app, base_url="http://ftemu/v1", headers=AUTH) as http:
            url = path(job_id)
            assert http.get(url).status_code == 200
            figures.append(median_ms(lambda url=url: http.get(url)))  # type: ignore[misc]
        app.state.core.close()
    return figures


def examples_row() -> tuple[list[float], list[float]]:
    created, indexes = [], []
    for count in (1000, 10_000, 100_000):
        app = create_app(Settings(memory=True, seed=1, speed="instant"))
        with TestClient(app, base_url="http://ftemu/v1", headers=AUTH) as http:
            file_id = http.post(
                "/files", files={"file": ("t.jsonl", training_jsonl(count))}, data={"purpose": "fine-tune"}
            ).json()["id"]
            started = time.perf_counter()
            job = http.post("/fine-tunes", json={"training_file": file_id}).json()
            while job["status"] != "succeeded":
                time.sleep(0.01)
                job = http.get(f"/fine-tunes/{job['id']}").json()
            created.append((time.perf_counter() - started) * 1000)
            core: Core = app.state.core
            record = core.store.get_model(core.auth.default.id, job["fine_tuned_model"])
            assert record is not None
            index = core.tuned_models.index(core.store, record)
            core.tuned_models.settle()
            indexes.append(index.nbytes / 1e6)
        app.state.core.close()
    return created, indexes


def startup_row() -> list[float]:
    figures = []
    for count in SIZES:
        with tempfile.TemporaryDirectory() as home:
            settings = Settings(data_dir=home, seed=1)
            app = create_app(settings)
            for kind in ("files", "jobs", "events", "models"):
                fill(app.state.core, kind, count * 10)
            app.state.core.close()
            opened: list[Starlette] = []
            figures.append(median_ms(lambda s=settings, kept=opened: kept.append(create_app(s)), runs=5))  # type: ignore[misc]
            for app in opened:  # closing waits for the start-up sweep, which runs on a worker thread
                app.state.core.close()
            assert Path(home, "ftemu.sqlite3").exists()
    return figures


def main() -> None:
    counts = ", ".join(map(str, SIZES))
    rows: list[tuple[str, str, list[float]]] = [
        ("GET /v1/files", f"files ({counts})", request_row("files", lambda _: "/files")),
        ("GET /v1/fine-tunes", f"jobs ({counts})", request_row("jobs", lambda _: "/fine-tunes")),
        (
            "GET /v1/fine-tunes, succeeded jobs",
            f"jobs with a results file and a model ({counts})",
            request_row("finished jobs", lambda _: "/fine-tunes"),
        ),
        (
            "GET /v1/fine-tunes/{id}/events",
            f"events ({counts})",
            request_row("events", lambda j: f"/fine-tunes/{j}/events"),
        ),
        ("GET /v1/models", f"tuned models ({counts})", request_row("models", lambda _: "/models")),
        ("start-up (create_app on a disk store)", "each of files, jobs, events, models (100, 1k, 10k)", startup_row()),
    ]
    created, indexes = examples_row()
    rows.append(("create to succeeded (--speed instant)", "examples (1k, 10k, 100k)", created))
    print("| cost (ms unless said) | grows with | 1x | 10x | 100x | 10x / 1x | 100x / 1x |")
    print("|---|---|---|---|---|---|---|")
    for name, unit, (one, ten, hundred) in rows:
        print(f"| {name} | {unit} | {one:.2f} | {ten:.2f} | {hundred:.2f} | {ten / one:.1f}x | {hundred / one:.1f}x |")
    one, ten, hundred = indexes
    print(
        f"| index memory (MB) | examples (1k, 10k, 100k) | {one:.2f} | {ten:.2f} | {hundred:.2f} "
        f"| {ten / one:.1f}x | {hundred / one:.1f}x |"
    )


if __name__ == "__main__":
    main()
