"""What a model tuned by a fine-tuning job knows: its chain's conversations, indexed once, cached per model.

A model made by a `ftjob-` job knows the conversations the store keeps for that job (`list_chat_examples`),
after those of the tuned models it was trained from (ancestors first, so its own win on an identical
conversation). A checkpoint `…:ckpt-step-N` knows each of its own job's conversations with probability
N / (the job's last checkpoint step), drawn once per conversation, so a later checkpoint knows everything an
earlier one knew; the final model knows all of them, and a model continued from a checkpoint knows what that
checkpoint knew (ours).
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict

from emulator.core.catalogue import modern_model, snapshot_of
from emulator.inference.chat_prompt import content_text, conversation_key
from emulator.inference.generation import text_seed
from emulator.inference.nearest import NearestIndex
from emulator.inference.tuned import lineage
from emulator.store import ChatExample, ModelRecord, Store

CACHE_SIZE = 32
JOB_PREFIX = "ftjob-"
# How often a tuned model answers an unseen conversation from its nearest one, by base snapshot (ours).
MODERN_QUALITY = {
    "gpt-4.1-2025-04-14": 0.95,
    "gpt-4o-2024-08-06": 0.95,
    "gpt-4.1-mini-2025-04-14": 0.9,
    "gpt-4o-mini-2024-07-18": 0.9,
    "gpt-4.1-nano-2025-04-14": 0.8,
    "gpt-3.5-turbo-0125": 0.85,
    "gpt-3.5-turbo-1106": 0.85,
    "gpt-3.5-turbo-0613": 0.85,
    "davinci-002": 0.8,
    "babbage-002": 0.7,
}
DEFAULT_MODERN_QUALITY = 0.85


def modern_quality(root: str) -> float:
    base = modern_model(root)
    return MODERN_QUALITY.get(snapshot_of(base).id if base else root, DEFAULT_MODERN_QUALITY)


def is_job_model(record: ModelRecord) -> bool:
    """True for a model made by a fine-tuning job (`ftjob-`), False for a legacy fine-tune's."""
    return record.fine_tune_id.startswith(JOB_PREFIX)


class ChatKnowledge:
    """A tuned model's conversations (known ones only) and the index over their keys (completion = position)."""

    def __init__(self, examples: list[ChatExample], quality: float) -> None:
        self.examples = examples
        self.quality = quality
        keyed = [(conversation_key(example.messages), str(position)) for position, example in enumerate(examples)]
        self.index = NearestIndex(keyed)

    @property
    def has_prompts(self) -> bool:
        """Whether the completion-format view is built (building it is O(conversations))."""
        return "prompts" in self.__dict__

    @functools.cached_property
    def prompts(self) -> NearestIndex:
        """The completion-format view (last user message, reply text) that /v1/completions looks up, built once."""
        return NearestIndex(
            [
                (content_text(example.messages[-1].get("content")) if example.messages else "", reply_text(example))
                for example in self.examples
            ]
        )


def _learned(store: Store, record: ModelRecord, examples: list[ChatExample]) -> list[ChatExample]:
    """A checkpoint's share of its own job's conversations; every conversation for any other model."""
    if record.checkpoint_step is None:
        return examples
    steps = [m.checkpoint_step for m in store.list_job_models(record.fine_tune_id) if m.checkpoint_step]
    last = max([*steps, record.checkpoint_step])
    share = record.checkpoint_step / last if last else 1.0
    drawn = (text_seed(record.fine_tune_id, position, "learned") / 2**64 for position in range(len(examples)))
    return [example for example, draw in zip(examples, drawn, strict=False) if draw < share]


def known_examples(store: Store, record: ModelRecord) -> list[ChatExample]:
    """Every conversation the model knows: ancestors first, its own last."""
    known: list[ChatExample] = []
    for model in lineage(store, record):
        if not is_job_model(model):
            continue
        examples = store.list_chat_examples(model.fine_tune_id)
        known += _learned(store, model, examples)
    return known


def build_knowledge(examples: list[ChatExample], quality: float) -> ChatKnowledge:
    return ChatKnowledge(examples, quality)


def reply_text(example: ChatExample) -> str:
    return content_text(example.reply.get("content"))


class ChatModels:
    """Knowledge by (model id, job id), built on first use; a model's conversations never change once it exists."""

    def __init__(self, capacity: int = CACHE_SIZE) -> None:
        self.capacity = capacity
        self._known: OrderedDict[tuple[str, str], ChatKnowledge] = OrderedDict()
        self._lock = threading.Lock()

    def cached(self, record: ModelRecord) -> ChatKnowledge | None:
        key = (record.id, record.fine_tune_id)
        with self._lock:
            found = self._known.get(key)
            if found is not None:
                self._known.move_to_end(key)
            return found

    def knowledge(self, store: Store, record: ModelRecord) -> ChatKnowledge:
        """The model's knowledge (call from a worker thread when not cached: building is O(conversations))."""
        found = self.cached(record)
        if found is not None:
            return found
        built = build_knowledge(known_examples(store, record), modern_quality(record.root))
        with self._lock:
            self._known[(record.id, record.fine_tune_id)] = built
            while len(self._known) > self.capacity:
                self._known.popitem(last=False)
        return built

    def clear(self) -> None:
        """Forget every model (the store was reset: a name may come back with other conversations)."""
        with self._lock:
            self._known.clear()

    def __len__(self) -> int:
        return len(self._known)
