"""Fine-tuned model names: ft:{snapshot}:{org slug}:{suffix or empty}:{8 base62}[:ckpt-step-{N}]."""

from __future__ import annotations

import re
from collections.abc import Callable

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def organization_slug(name: str) -> str:
    """`personal` stays; other names are lower-cased, runs of other characters become one '-' (ours)."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug or "personal"


def time_prefix(when: int) -> str:
    """Four base62 characters that rise with time: the final model and its checkpoints share them."""
    digits = []
    number = max(0, when)
    while number:
        number, index = divmod(number, 62)
        digits.append(BASE62[index])
    return "".join(reversed(digits)).rjust(6, "0")[:4]


def model_name(base: str, organization: str, suffix: str | None, short_id: str) -> str:
    return f"ft:{base}:{organization_slug(organization)}:{suffix or ''}:{short_id}"


def checkpoint_name(base: str, organization: str, suffix: str | None, short_id: str, step: int) -> str:
    return f"{model_name(base, organization, suffix, short_id)}:ckpt-step-{step}"


def unique_name(make: Callable[[str], str], when: int, draw: Callable[[], str], taken: Callable[[str], bool]) -> str:
    """A name whose 8-character id (time prefix + 4 drawn) no model has used yet."""
    while taken(name := make(time_prefix(when) + draw()[:4])):
        continue
    return name
