"""Quality profiles: how often a tuned model answers an unseen prompt from its nearest training example."""

from __future__ import annotations

import hashlib
import random

from emulator.core.catalogue import BASE_MODELS

DEFAULT_QUALITY = "ada=0.55,babbage=0.7,curie=0.85,davinci=0.95"


def parse_quality(value: str) -> dict[str, float]:
    """'ada=0.55,curie=0.85' -> {base: probability}; bases left out keep their default."""
    table = dict(_parse_pairs(DEFAULT_QUALITY))
    table.update(_parse_pairs(value))
    return table


def _parse_pairs(value: str) -> list[tuple[str, float]]:
    pairs: list[tuple[str, float]] = []
    for item in value.split(","):
        if not item.strip():
            continue
        name, sep, raw = item.partition("=")
        name = name.strip()
        if not sep or name not in BASE_MODELS:
            raise ValueError(f"--quality must be base=probability pairs such as {DEFAULT_QUALITY!r}, not {value!r}")
        try:
            probability = float(raw)
        except ValueError:
            raise ValueError(f"--quality: {raw.strip()!r} is not a number (in {item.strip()!r})") from None
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"--quality: the probability for {name} must be between 0 and 1, not {probability}")
        pairs.append((name, probability))
    if not pairs:
        raise ValueError(f"--quality must name at least one base model, e.g. {DEFAULT_QUALITY!r}")
    return pairs


def draw(seed: int, model: str, prompt: str) -> float:
    """A uniform number in [0, 1) fixed by (seed, model id, prompt).

    random.Random(n).random() where n is the first 8 bytes (big-endian) of
    sha256(f"{seed}\\0{model}\\0{prompt}\\0quality"). A tuned model answers an unseen prompt from its nearest
    example when this is below its base's quality.
    """
    digest = hashlib.sha256(f"{seed}\x00{model}\x00{prompt}\x00quality".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big")).random()
