"""What a tuned model knows: its training chain's examples, indexed once per model in a bounded LRU cache."""

from __future__ import annotations

import threading
from collections import OrderedDict

from emulator.core.catalogue import BASE_MODELS
from emulator.inference.nearest import NearestIndex
from emulator.store import ModelRecord, Store

CACHE_SIZE = 32


def lineage(store: Store, record: ModelRecord) -> list[ModelRecord]:
    """The model and the tuned models it was trained from, oldest first (deleted parents included)."""
    chain = [record]
    seen = {record.id}
    parent = record.parent
    while parent not in BASE_MODELS and parent not in seen:
        found = store.get_model_including_deleted(record.organization_id, parent)
        if found is None:
            break
        chain.append(found)
        seen.add(found.id)
        parent = found.parent
    return chain[::-1]


def training_examples(store: Store, record: ModelRecord) -> list[tuple[str, str]]:
    """Every (prompt, completion) the model learnt: ancestors first, its own last (own win on conflict)."""
    examples: list[tuple[str, str]] = []
    for model in lineage(store, record):
        examples += store.list_fine_tune_examples(model.fine_tune_id)
    return examples


class TunedModels:
    """Nearest-prompt indexes by (model id, fine-tune id): a model's examples never change once it exists."""

    def __init__(self, capacity: int = CACHE_SIZE) -> None:
        self.capacity = capacity
        self._indexes: OrderedDict[tuple[str, str], NearestIndex] = OrderedDict()
        self._lock = threading.Lock()

    def cached(self, record: ModelRecord) -> NearestIndex | None:
        key = (record.id, record.fine_tune_id)
        with self._lock:
            index = self._indexes.get(key)
            if index is not None:
                self._indexes.move_to_end(key)
            return index

    def index(self, store: Store, record: ModelRecord) -> NearestIndex:
        """The model's index, built on first use (call from a worker thread: 10,000 examples take ~0.3 s)."""
        found = self.cached(record)
        if found is not None:
            return found
        built = NearestIndex(training_examples(store, record))
        with self._lock:
            self._indexes[(record.id, record.fine_tune_id)] = built
            while len(self._indexes) > self.capacity:
                self._indexes.popitem(last=False)
        return built

    def __len__(self) -> int:
        return len(self._indexes)
