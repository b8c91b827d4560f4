"""The errata overlay for the current spec's fine-tuning schemas: where captured real responses disagree with it.

Each entry sets one node of the current spec (a JSON pointer, "~1" for "/"). `A` numbers point at
../shared/reference/modern-fine-tuning.md (A12 lists the disagreements). The v1 suite checks its responses
against the current spec with this overlay applied.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from conformance.errata import Erratum, apply_errata
from conformance.schema import Spec

CURRENT_SPEC_FILE = "openapi-current.yaml"
SCHEMAS = "/components/schemas"

CURRENT_ERRATA: tuple[Erratum, ...] = (
    Erratum(
        f"{SCHEMAS}/FineTuningJob/properties/status/enum",
        ["validating_files", "queued", "running", "succeeded", "failed", "cancelled", "paused"],
        "The pause endpoint's own example returns status `paused`, which the enum lacks (A3, A12.1).",
    ),
    Erratum(
        f"{SCHEMAS}/FineTuningJob/properties/user_provided_suffix",
        {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "Captured jobs carry `user_provided_suffix` ('drone' or None), shown in the examples only (A3, A12.5).",
    ),
    Erratum(
        f"{SCHEMAS}/FineTuningJobEvent/properties/data",
        {"anyOf": [{"type": "object"}, {"type": "null"}]},
        "`data` is null on 'Fine-tuning job started' in every capture (A4).",
    ),
)


@functools.cache
def current_spec(spec_dir: Path) -> Spec | None:
    """The current spec with the overlay, or None when the directory does not hold it."""
    path = spec_dir / CURRENT_SPEC_FILE
    if not path.is_file():
        return None
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open(encoding="utf-8") as handle:
        document: dict[str, Any] = yaml.load(handle, Loader=loader)
    return Spec(path, apply_errata(document, CURRENT_ERRATA))
