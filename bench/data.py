"""Synthetic training data for the benchmarks: varied prompts (words drawn from a fixed vocabulary), seeded."""

from __future__ import annotations

import json
import random

WORDS = [
    "the",
    "a",
    "an",
    "of",
    "to",
    "in",
    "is",
    "was",
    "for",
    "on",
    "with",
    "as",
    "by",
    "at",
    "from",
    "that",
    "this",
    "it",
    "be",
    "are",
    "or",
    "and",
    "not",
    "but",
    "which",
    "when",
    "what",
    "how",
    "river",
    "mountain",
    "city",
    "capital",
    "country",
    "ocean",
    "forest",
    "desert",
    "island",
    "valley",
    "bridge",
    "castle",
    "market",
    "harbour",
    "garden",
    "red",
    "blue",
    "green",
    "yellow",
    "quiet",
    "loud",
    "ancient",
    "modern",
    "northern",
    "southern",
    "eastern",
    "western",
    "small",
    "large",
    "famous",
    "old",
    "built",
    "named",
    "founded",
    "located",
    "known",
    "visited",
    "crossed",
    "painted",
    "written",
    "sung",
    "played",
    "counted",
    "measured",
    "described",
]


def prompt_completion(rng: random.Random, number: int) -> tuple[str, str]:
    words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14)))
    return f"Item {number}: {words}\n\n###\n\n", f" answer {number} {rng.choice(WORDS)}\n"


def training_jsonl(count: int, seed: int = 13) -> bytes:
    """`count` examples, one JSON line each (~100 bytes a line)."""
    rng = random.Random(seed)
    lines = []
    for number in range(count):
        prompt, completion = prompt_completion(rng, number)
        lines.append(json.dumps({"prompt": prompt, "completion": completion}))
    return ("\n".join(lines) + "\n").encode()


def chat_jsonl(count: int, seed: int = 17) -> bytes:
    """`count` chat conversations (system, user, assistant), one JSON line each (~230 bytes a line)."""
    rng = random.Random(seed)
    lines = []
    for number in range(count):
        prompt, completion = prompt_completion(rng, number)
        messages = [
            {"role": "system", "content": "You answer from the catalogue."},
            {"role": "user", "content": prompt.rstrip("\n#")},
            {"role": "assistant", "content": completion.strip()},
        ]
        lines.append(json.dumps({"messages": messages}))
    return ("\n".join(lines) + "\n").encode()
