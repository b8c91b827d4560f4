"""Fine-tuned model names (§5): {base}:ft-{org}[:{suffix}]-{YYYY-MM-DD-HH-MM-SS}, UTC at upload time."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from functools import lru_cache

_PUNCTUATION_OR_SPACE = re.compile(r"[\W_]+", re.UNICODE)


def slug(text: str) -> str:
    """Lower case; every run of punctuation and whitespace becomes one dash."""
    return _PUNCTUATION_OR_SPACE.sub("-", text.lower())


def name_prefix(base: str, organization: str, suffix: str | None) -> str:
    """Every name of this base, organisation and suffix starts so; the time stamp follows."""
    middle = f":{slug(suffix)}" if suffix else ""
    return f"{base}:ft-{slug(organization)}{middle}-"


@lru_cache(maxsize=4096)
def _stamp(created: int) -> str:
    """A name's UTC time stamp: in a busy organisation every job ending probes the same run of taken seconds."""
    return time.strftime("%Y-%m-%d-%H-%M-%S", time.gmtime(created))


def model_name(base: str, organization: str, suffix: str | None, created: int) -> str:
    return name_prefix(base, organization, suffix) + _stamp(created)


def unique_model_name(
    base: str, organization: str, suffix: str | None, created: int, taken: Callable[[str], bool]
) -> tuple[str, int]:
    """The name and its `created`; if the second is taken by another model, the next free second."""
    prefix = name_prefix(base, organization, suffix)
    while taken(name := prefix + _stamp(created)):
        created += 1
    return name, created


def root_of(model: str) -> str:
    """The base model a (possibly fine-tuned) model name starts from: 'curie:ft-x-...' -> 'curie'."""
    return model.split(":", 1)[0]
