"""What a tuned model knows: its training chain's examples, indexed once per job, kept on disk, cached by bytes.

A job's index is built once (by the job's preparation, off the event loop, or on a model's first use), written
as one file `<fine-tune id>.nearest` in the data directory's `indexes/`, and read back in one go after a
restart instead of being rebuilt (kept.py). In memory the cache holds the most recently used indexes up to a
byte budget.
"""

from __future__ import annotations

from emulator.core.catalogue import BASE_MODELS
from emulator.inference.kept import KeptIndexes
from emulator.inference.nearest import NearestIndex
from emulator.store import ModelRecord, Store


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


class TunedModels(KeptIndexes):
    """Nearest-prompt indexes by fine-tune id: a job's examples (and its chain's) never change once it exists."""

    def cached(self, record: ModelRecord) -> NearestIndex | None:
        return self.kept(record.fine_tune_id)

    def index(self, store: Store, record: ModelRecord) -> NearestIndex:
        """The model's index: cached, else read from its file, else built (call from a worker thread)."""
        found = self.cached(record)
        if found is not None:
            return found
        job = record.fine_tune_id
        return self.made(job, lambda: self.make(store, record.organization_id, job, record.parent))

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
