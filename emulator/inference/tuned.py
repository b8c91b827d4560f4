"""What a tuned model knows: its training chain's examples, indexed once per job, kept on disk, cached by bytes.

A job's index is built once (by the job's preparation, off the event loop, or on a model's first use), written
as one file `<fine-tune id>.nearest` in the data directory's `indexes/`, and read back in one go after a
restart instead of being rebuilt. In memory the cache holds the most recently used indexes up to a byte budget.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

from emulator.core.background import Background
from emulator.core.catalogue import BASE_MODELS
from emulator.inference.nearest import NearestIndex
from emulator.store import ModelRecord, Store

log = logging.getLogger("ftemu")
CACHE_BYTES = 256 * 1024 * 1024  # ~6 indexes of 100,000 examples
# Up to this many examples the similarity part waits for its first use (a few milliseconds then, on the caller's
# thread): most small models only ever get their training prompts, and a hand-over to a worker costs more.
LAZY_SIMILARITY_EXAMPLES = 300


def lineage(store: Store, record: ModelRecord) -> list[ModelRecord]:
    """The model and the tuned models it was trained from, oldest first (deleted parents included)."""
    return [*ancestors(store, record.organization_id, record.parent), record]


def ancestors(store: Store, organization_id: str, parent: str) -> list[ModelRecord]:
    """The tuned models a job trains from (its `model` and that model's own chain), oldest first."""
    chain: list[ModelRecord] = []
    seen: set[str] = set()
    while parent not in BASE_MODELS and parent not in seen:
        found = store.get_model_including_deleted(organization_id, parent)
        if found is None:
            break
        chain.append(found)
        seen.add(found.id)
        parent = found.parent
    return chain[::-1]


def training_examples(store: Store, record: ModelRecord) -> list[tuple[str, str]]:
    """Every (prompt, completion) the model learnt: ancestors first, its own last (own win on conflict)."""
    return job_examples(store, record.organization_id, record.fine_tune_id, record.parent)


def job_examples(
    store: Store, organization_id: str, fine_tune_id: str, parent: str, own: list[tuple[str, str]] | None = None
) -> list[tuple[str, str]]:
    """What a job's model will know: the examples of the chain it trains from, then its own."""
    examples: list[tuple[str, str]] = []
    for model in ancestors(store, organization_id, parent):
        examples += store.list_fine_tune_examples(model.fine_tune_id)
    examples += store.list_fine_tune_examples(fine_tune_id) if own is None else own
    return examples


class TunedModels:
    """Nearest-prompt indexes by fine-tune id: a job's examples (and its chain's) never change once it exists."""

    def __init__(
        self,
        capacity: int | None = None,
        *,
        max_bytes: int = CACHE_BYTES,
        directory: Path | None = None,
        lazy_similarity: int = LAZY_SIMILARITY_EXAMPLES,
    ):
        self.capacity = capacity
        self.lazy_similarity = lazy_similarity
        self.max_bytes = max_bytes
        self.directory = directory
        self._indexes: OrderedDict[str, NearestIndex] = OrderedDict()
        self._sizes: dict[str, int] = {}  # each kept index's bytes when last counted
        self._bytes = 0
        self._building: dict[str, Future[NearestIndex]] = {}
        self._lock = threading.Lock()
        self._builder = Background("ftemu-index")

    def cached(self, record: ModelRecord) -> NearestIndex | None:
        with self._lock:
            index = self._indexes.get(record.fine_tune_id)
            if index is not None:
                self._indexes.move_to_end(record.fine_tune_id)
                self._count(record.fine_tune_id)  # a small index grows when a lookup builds its similarity part
            return index

    def index(self, store: Store, record: ModelRecord) -> NearestIndex:
        """The model's index: cached, else read from its file, else built (call from a worker thread)."""
        found = self.cached(record)
        if found is not None:
            return found
        return self.build(store, record.organization_id, record.fine_tune_id, record.parent)

    def build(
        self,
        store: Store,
        organization_id: str,
        fine_tune_id: str,
        parent: str,
        *,
        own: list[tuple[str, str]] | None = None,
    ) -> NearestIndex:
        """A job's index, made once: a second caller waits for the first instead of building again.

        The exact-prompt part is made here; the similarity part follows in the background (and the file is
        written again with it), so a training prompt never waits for trigram postings. A small index builds its
        similarity part on first need instead (not written again: rebuilding it after a restart is as cheap).
        """
        with self._lock:
            pending = self._building.get(fine_tune_id)
            mine = pending is None
            if pending is None:
                pending = self._building[fine_tune_id] = Future()
        if not mine:
            return pending.result()
        try:
            built = self._load(fine_tune_id)
            if built is None:
                built = self.make(store, organization_id, fine_tune_id, parent, own=own)
                self._save(fine_tune_id, built)
            self._adopt(fine_tune_id, built)
            pending.set_result(built)
            return built
        except BaseException as exc:
            pending.set_exception(exc)
            raise
        finally:
            with self._lock:
                self._building.pop(fine_tune_id, None)

    @staticmethod
    def make(
        store: Store,
        organization_id: str,
        fine_tune_id: str,
        parent: str,
        *,
        own: list[tuple[str, str]] | None = None,
    ) -> NearestIndex:
        """A job's index, made now and kept nowhere: a preparation makes it while the job's tokens are still
        being counted, and `adopt`s it once the job is known to succeed (a job that fails has no model)."""
        return NearestIndex(job_examples(store, organization_id, fine_tune_id, parent, own))

    def adopt(self, fine_tune_id: str, index: NearestIndex) -> None:
        """Keep an index `make` made as the job's own: written to its file, cached, completed in the background."""
        self._save(fine_tune_id, index)
        self._adopt(fine_tune_id, index)

    def _adopt(self, fine_tune_id: str, index: NearestIndex) -> None:
        self._keep(fine_tune_id, index)
        if not index.complete and len(index) > self.lazy_similarity:
            self._in_background(self._complete, fine_tune_id, index)

    def _in_background(self, work: Callable[[str, NearestIndex], None], fine_tune_id: str, index: NearestIndex) -> None:
        self._builder.submit(work, fine_tune_id, index)

    def _complete(self, fine_tune_id: str, index: NearestIndex) -> None:
        """Build the similarity part and write the whole index again; the cache counts its new size."""
        try:
            index.postings  # noqa: B018 - building it is the point
            self._save(fine_tune_id, index)
        except Exception:
            log.exception("could not complete the index of %s", fine_tune_id)
        with self._lock:
            if fine_tune_id in self._indexes:
                self._count(fine_tune_id)
                self._evict()

    def settle(self) -> None:
        """Wait until every index being completed in the background is done (tests and benchmarks)."""
        self._builder.submit(lambda: None).result()

    def _path(self, fine_tune_id: str) -> Path | None:
        return None if self.directory is None else self.directory / f"{fine_tune_id}.nearest"

    def _load(self, fine_tune_id: str) -> NearestIndex | None:
        path = self._path(fine_tune_id)
        if path is None or not path.exists():
            return None
        try:
            return NearestIndex.from_bytes(path.read_bytes())
        except (OSError, ValueError):
            log.warning("rebuilding the unreadable index %s", path)
            return None

    def _save(self, fine_tune_id: str, index: NearestIndex) -> None:
        path = self._path(fine_tune_id)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")  # one writer per job at a time (see build)
        partial.write_bytes(index.to_bytes())
        os.replace(partial, path)

    def _keep(self, fine_tune_id: str, index: NearestIndex) -> None:
        """Most recently used last; the oldest go while over the count or the bytes (the newest always stays)."""
        with self._lock:
            if fine_tune_id in self._indexes:
                return
            self._indexes[fine_tune_id] = index
            self._count(fine_tune_id)
            self._evict()

    def _count(self, fine_tune_id: str) -> None:
        """Under the lock: count one kept index's bytes again (it grows when its similarity part is built)."""
        size = self._indexes[fine_tune_id].nbytes
        self._bytes += size - self._sizes.get(fine_tune_id, 0)
        self._sizes[fine_tune_id] = size

    def _evict(self) -> None:
        """Under the lock: the least recently used go while over the budget (the newest always stays)."""
        while len(self._indexes) > 1 and self._over():
            dropped, _ = self._indexes.popitem(last=False)
            self._bytes -= self._sizes.pop(dropped)

    def _over(self) -> bool:
        counted = self.capacity is not None and len(self._indexes) > self.capacity
        return counted or self._bytes > self.max_bytes

    def forget(self) -> None:
        """Drop every cached index (a reset); files stay, named by job ids that are never reused."""
        with self._lock:
            self._indexes.clear()
            self._sizes.clear()
            self._bytes = 0

    @property
    def nbytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._indexes)
