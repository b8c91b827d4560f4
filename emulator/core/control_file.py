"""The control file given at start-up (--control-file): faults and outcome rules in force from the first request."""

from __future__ import annotations

from pathlib import Path

from emulator.core.errors import APIError
from emulator.core.faults import FaultRegistry, parse_fault
from emulator.core.orgs import read_table
from emulator.core.outcomes import Outcomes, parse_rule


def load_control_file(path: Path, faults: FaultRegistry, outcomes: Outcomes) -> None:
    """`faults = [{...}]` and `outcomes = [{...}]`, each entry as the control API takes it (ValueError if not)."""
    table = read_table(path)
    unknown = sorted(set(table) - {"faults", "outcomes"})
    if unknown:
        raise ValueError(f"{path}: unknown table {unknown[0]!r} (expected 'faults' and 'outcomes')")
    for name in ("faults", "outcomes"):
        entries = table.get(name, [])
        if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
            raise ValueError(f"{path}: '{name}' must be a list of tables")
    try:
        for entry in table.get("faults", []):  # type: ignore[attr-defined]
            faults.add(parse_fault(entry))
        for entry in table.get("outcomes", []):  # type: ignore[attr-defined]
            if "job" in entry:
                raise ValueError(f"{path}: an outcome for one 'job' cannot be set before the job exists")
            outcomes.add_rule(parse_rule(entry))
    except APIError as error:
        raise ValueError(f"{path}: {error.message}") from None
