"""The current spec's overlay: each erratum answers a real disagreement (the bare spec refuses what ftemu sends
as the captures show it; the overlaid spec accepts it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conformance.errata import apply_errata
from conformance.errata_current import CURRENT_SPEC_FILE, current_spec
from conformance.schema import SchemaViolation, Spec

SPEC_DIR = Path(__file__).resolve().parents[2] / "shared" / "reference" / "openapi"
JOB: dict[str, Any] = {
    "object": "fine_tuning.job",
    "id": "ftjob-abc",
    "model": "gpt-4o-mini-2024-07-18",
    "created_at": 1,
    "finished_at": None,
    "fine_tuned_model": None,
    "organization_id": "org-1",
    "result_files": [],
    "status": "paused",
    "validation_file": None,
    "training_file": "file-1",
    "hyperparameters": {"batch_size": 1, "learning_rate_multiplier": 1.8, "n_epochs": 10},
    "method": {"type": "supervised"},
    "trained_tokens": None,
    "error": None,
    "user_provided_suffix": "drone",
    "seed": 1,
    "estimated_finish": None,
    "integrations": [],
    "metadata": None,
}
EVENT = {"object": "fine_tuning.job.event", "id": "ftevent-1", "created_at": 1, "level": "info"}
STARTED = {**EVENT, "message": "Fine-tuning job started", "data": None, "type": "message"}


@pytest.fixture(scope="module")
def specs() -> tuple[Spec, Spec]:
    if not (SPEC_DIR / CURRENT_SPEC_FILE).is_file():
        pytest.skip("the current spec is not in ../shared/reference/openapi")
    import yaml

    with (SPEC_DIR / CURRENT_SPEC_FILE).open(encoding="utf-8") as handle:
        bare = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    overlaid = current_spec(SPEC_DIR)
    assert overlaid is not None
    return Spec(SPEC_DIR / CURRENT_SPEC_FILE, apply_errata(bare, ())), overlaid


@pytest.mark.parametrize(("component", "instance"), [("FineTuningJob", JOB), ("FineTuningJobEvent", STARTED)])
def test_current_errata_accept_what_the_bare_spec_refuses(
    specs: tuple[Spec, Spec], component: str, instance: dict[str, Any]
) -> None:
    bare, overlaid = specs
    with pytest.raises(SchemaViolation):
        bare.validate_component(component, instance, component)
    overlaid.validate_component(component, instance, component)
