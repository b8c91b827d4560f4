"""What a model tuned by a fine-tuning job knows: its chain's conversations, indexed once, kept on disk, cached.

A model made by a `ftjob-` job knows the conversations the store keeps for that job (`list_chat_examples`),
after those of the tuned models it was trained from (ancestors first, so its own win on an identical
conversation). A checkpoint `…:ckpt-step-N` knows each of its own job's conversations with probability
N / (the job's last checkpoint step), drawn once per conversation, so a later checkpoint knows everything an
earlier one knew; the final model knows all of them, and a model continued from a checkpoint knows what that
checkpoint knew (ours).

What a model knows is one nearest-prompt index (nearest.py: its texts in one UTF-8 buffer, its numbers in typed
arrays), kept as the legacy models' are (kept.py): made once, written as `<job id>.chat.nearest` in the data
directory's `indexes/` (`<job id>.<digest>.chat.nearest` for a set a checkpoint's share decides), read back in
one go after a restart, cached up to a byte budget. A chat model's index maps each conversation's key to what
its answer uses of the reply (the reply's text and tool calls, as JSON); a babbage-002 / davinci-002 model's
(`.prompts`) maps the last user message to the reply's text, the completion-format view /v1/completions uses.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any

from emulator.core.catalogue import modern_model, snapshot_of
from emulator.inference.chat_prompt import compact, content_text, conversation_key
from emulator.inference.generation import text_seed
from emulator.inference.kept import KeptIndexes
from emulator.inference.nearest import NearestIndex
from emulator.inference.tuned import ancestors, lineage
from emulator.store import ChatExample, ModelRecord, Store

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


Share = tuple[int, int] | None  # a checkpoint's (step, its job's last checkpoint step); None: every conversation
Part = tuple[str, Share]  # a job whose conversations a model knows, and its share of them


def chat_view(root: str) -> bool:
    """Whether a model of this base answers conversations (chat) or prompts (babbage-002, davinci-002)."""
    base = modern_model(root)
    return base is None or base.kind == "chat"


def reply_json(reply: dict[str, Any]) -> str:
    """What a chat answer uses of a reply: its text (when it has content) and its tool calls (when a list)."""
    content = reply.get("content")
    if isinstance(content, str) and "tool_calls" not in reply:  # most replies: one string encoded, no dict
        return f'{{"content":{encode_basestring(content)}}}'
    used: dict[str, Any] = {}
    if reply.get("content") is not None:
        used["content"] = content_text(reply["content"])
    if isinstance(reply.get("tool_calls"), list):
        used["tool_calls"] = reply["tool_calls"]
    return compact(used)


def reply_text(example: ChatExample) -> str:
    return content_text(example.reply.get("content"))


def pairs(examples: list[ChatExample], chat: bool) -> list[tuple[str, str]]:
    """(key, what answers use) per conversation: the chat view, or the completion-format view."""
    if chat:
        return [(conversation_key(example.messages), reply_json(example.reply)) for example in examples]
    return [
        (content_text(example.messages[-1].get("content")) if example.messages else "", reply_text(example))
        for example in examples
    ]


@dataclass(frozen=True)
class ChatKnowledge:
    """A tuned model's known conversations as one index, and how often it answers unseen ones from it."""

    index: NearestIndex
    quality: float

    def reply(self, position: int) -> dict[str, Any]:
        """What a chat answer uses of the reply of the index's example `position` (see reply_json)."""
        used: dict[str, Any] = json.loads(self.index.examples[position][1])
        return used


def build_knowledge(examples: list[ChatExample], quality: float, *, chat: bool = True) -> ChatKnowledge:
    return ChatKnowledge(NearestIndex(pairs(examples, chat)), quality)


def _share(store: Store, record: ModelRecord) -> Share:
    """A checkpoint's step and its job's last checkpoint step, when it knows only part of its job's conversations."""
    step = record.checkpoint_step
    if step is None:
        return None
    last = max([m.checkpoint_step for m in store.list_job_models(record.fine_tune_id) if m.checkpoint_step] + [step])
    return (step, last) if last and step < last else None


def _learned(examples: list[ChatExample], job_id: str, share: Share) -> list[ChatExample]:
    """A checkpoint's share of its own job's conversations; every conversation for any other model."""
    if share is None:
        return examples
    fraction = share[0] / share[1]
    drawn = (text_seed(job_id, position, "learned") / 2**64 for position in range(len(examples)))
    return [example for example, draw in zip(examples, drawn, strict=False) if draw < fraction]


def _parts(store: Store, models: list[ModelRecord]) -> list[Part]:
    return [(model.fine_tune_id, _share(store, model)) for model in models if is_job_model(model)]


def _known(store: Store, parts: list[Part]) -> list[ChatExample]:
    known: list[ChatExample] = []
    for job_id, share in parts:
        known += _learned(store.list_chat_examples(job_id), job_id, share)
    return known


def known_examples(store: Store, record: ModelRecord) -> list[ChatExample]:
    """Every conversation the model knows: ancestors first, its own last."""
    return _known(store, _parts(store, lineage(store, record)))


def knowledge_name(job_id: str, parts: list[Part], chat: bool) -> str:
    """The name of a known set: its job's, with a digest of the chain's shares when a checkpoint's share is in it."""
    view = "chat" if chat else "prompts"
    if all(share is None for _, share in parts):
        return f"{job_id}.{view}"  # every conversation of every job in the chain: the job decides the chain
    signature = "|".join(job if share is None else f"{job}@{share[0]}/{share[1]}" for job, share in parts)
    return f"{job_id}.{hashlib.blake2b(signature.encode(), digest_size=8).hexdigest()}.{view}"


@dataclass(frozen=True)
class Made:
    """A job's knowledge made ahead of its model's first use, and the name `ChatModels.adopt` keeps it under."""

    name: str
    index: NearestIndex


class ChatModels(KeptIndexes):
    """Knowledge by known set (kept.py): a model's conversations never change once they are decided."""

    def __init__(self, capacity: int | None = None, **options: Any) -> None:
        super().__init__(capacity, thread="ftemu-chat-index", **options)
        self._names: dict[tuple[str, str], str] = {}  # models whose chain holds no checkpoint: a fixed name

    def name(self, store: Store, record: ModelRecord) -> str:
        """The model's known set (a few small reads for a chain with a checkpoint, whose share may still grow)."""
        key = (record.id, record.fine_tune_id)
        found = self._names.get(key)
        if found is not None:
            return found
        chain = lineage(store, record)
        name = knowledge_name(record.fine_tune_id, _parts(store, chain), chat_view(record.root))
        if all(model.checkpoint_step is None for model in chain):
            self._names[key] = name
        return name

    def cached(self, store: Store, record: ModelRecord) -> ChatKnowledge | None:
        index = self.kept(self.name(store, record))
        return None if index is None else ChatKnowledge(index, modern_quality(record.root))

    def knowledge(self, store: Store, record: ModelRecord) -> ChatKnowledge:
        """The model's knowledge: cached, else read from its file, else built (call from a worker thread then)."""
        name = self.name(store, record)
        index = self.kept(name)
        if index is None:
            chat = chat_view(record.root)
            index = self.made(name, lambda: NearestIndex(pairs(known_examples(store, record), chat)))
        return ChatKnowledge(index, modern_quality(record.root))

    @staticmethod
    def make(
        store: Store, organization_id: str, job_id: str, parent: str, root: str, *, own: list[ChatExample] | None = None
    ) -> Made:
        """What a job's final model will know, made now and kept nowhere (its own conversations: `own`, else the
        store's). A job's preparation makes it off the event loop and, once the job is known to succeed, calls
        `adopt(made.name, made.index)`: the model's first answer then neither builds nor reads anything."""
        parts = _parts(store, ancestors(store, organization_id, parent))
        examples = _known(store, parts) + (store.list_chat_examples(job_id) if own is None else own)
        chat = chat_view(root)
        return Made(knowledge_name(job_id, [*parts, (job_id, None)], chat), NearestIndex(pairs(examples, chat)))

    def clear(self) -> None:
        """Forget every model (a reset); files stay, named by job ids that are never reused."""
        self.forget()
        self._names.clear()
