"""The tuned-model cache: bounded by bytes, indexes kept on disk and read back after a restart, built once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from starlette.applications import Starlette

from emulator.inference.nearest import NearestIndex
from emulator.inference.tuned import TunedModels
from emulator.store import ModelRecord
from tests.conftest import in_process
from tests.emulator.legacy.test_completions import complete, tune


class Examples:
    """A store that only knows examples (base-model parents need nothing else), counting what it is asked."""

    def __init__(self, size: int = 50) -> None:
        self.size = size
        self.calls = 0

    def list_fine_tune_examples(self, fine_tune_id: str) -> list[tuple[str, str]]:
        self.calls += 1
        return [(f"{fine_tune_id} question {i} ->", f" answer {i}") for i in range(self.size)]


def model(number: int) -> ModelRecord:
    return ModelRecord(f"ada:ft-{number}", "org", 0, "ada", "ada", f"ft-{number}", "p", False)


def test_tuned_models_cache_evicts_the_oldest_by_bytes() -> None:
    store = Examples()
    sample = NearestIndex(store.list_fine_tune_examples("ft-0"))
    sample.postings  # noqa: B018 - counted with its similarity part, as the cache counts it once built
    cache = TunedModels(max_bytes=int(2.5 * sample.nbytes), lazy_similarity=0)
    for number in range(4):
        cache.index(store, model(number))  # type: ignore[arg-type]
        cache.settle()
    assert len(cache) == 2 and cache.nbytes <= cache.max_bytes
    assert cache.cached(model(1)) is None and cache.cached(model(3)) is not None


def test_tuned_models_cache_keeps_the_newest_even_over_the_budget() -> None:
    cache = TunedModels(max_bytes=1)
    cache.index(Examples(), model(0))  # type: ignore[arg-type]
    cache.index(Examples(), model(1))  # type: ignore[arg-type]
    assert len(cache) == 1 and cache.cached(model(1)) is not None


def test_tuned_models_index_read_back_after_a_restart_without_a_rebuild(tmp_path: Path) -> None:
    store = Examples()
    cache = TunedModels(directory=tmp_path, lazy_similarity=0)
    first = cache.index(store, model(0))  # type: ignore[arg-type]
    cache.settle()
    assert store.calls == 1 and (tmp_path / "ft-0.nearest").exists()
    again = TunedModels(directory=tmp_path).index(store, model(0))  # type: ignore[arg-type]
    assert store.calls == 1  # nothing read from the store: the file was enough
    assert list(again.examples) == list(first.examples)
    assert again.complete  # written again once its similarity part was built: nothing to rebuild
    assert again.nearest("ft-0 question 7") == first.nearest("ft-0 question 7")


def test_tuned_models_small_index_builds_its_similarity_part_on_first_need(tmp_path: Path) -> None:
    cache = TunedModels(directory=tmp_path)
    index = cache.index(Examples(size=50), model(0))  # type: ignore[arg-type]
    cache.settle()
    assert not index.complete  # nothing handed to the worker
    assert index.nearest("ft-0 question 7 ->!") is not None and index.complete
    cache.settle()
    assert not NearestIndex.from_bytes((tmp_path / "ft-0.nearest").read_bytes()).complete  # cheap to redo


def test_tuned_models_unreadable_file_is_rebuilt(tmp_path: Path) -> None:
    (tmp_path / "ft-0.nearest").write_bytes(b"garbage")
    store = Examples()
    index = TunedModels(directory=tmp_path).index(store, model(0))  # type: ignore[arg-type]
    assert store.calls == 1 and len(index) == 50
    assert NearestIndex.from_bytes((tmp_path / "ft-0.nearest").read_bytes()).nearest("ft-0 question 3 ->") is not None


def test_tuned_models_concurrent_first_uses_build_once() -> None:
    store = Examples(size=3000)
    cache = TunedModels()
    found: list[NearestIndex] = []
    threads = [
        threading.Thread(target=lambda: found.append(cache.index(store, model(0))))  # type: ignore[arg-type]
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 4 and all(index is found[0] for index in found)
    assert store.calls == 1


def test_create_completion_after_a_restart_reads_the_jobs_index_file(
    make_app: Callable[..., Starlette], tmp_path: Path
) -> None:
    first = make_app(memory=False, data_dir=str(tmp_path))
    http = in_process(first)
    name = tune(http)
    job_id = http.get("/fine-tunes").json()["data"][0]["id"]
    prompt = "The capital of Country42 is\n\n###\n\n"
    before = complete(http, model=name, prompt=prompt, max_tokens=3)["choices"][0]["text"]
    first.state.core.close()
    assert (tmp_path / "indexes" / f"{job_id}.nearest").exists()
    second = make_app(memory=False, data_dir=str(tmp_path))
    after = complete(in_process(second), model=name, prompt=prompt, max_tokens=3)["choices"][0]["text"]
    assert after == before and before.startswith(" City42")
