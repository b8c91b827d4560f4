"""Holding jobs' preparations in tests: every create answers without waiting, preparations wait for a gate."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest


def held_preparations(
    monkeypatch: pytest.MonkeyPatch, preparations: type[Any], resource: ModuleType
) -> Iterator[threading.Event]:
    """Patch `preparations.prepare` to wait until the returned gate opens, and `resource`'s size limits so no
    create prepares or awaits its file; the gate opens at the end of the test (use from a fixture)."""
    opened = threading.Event()
    original = preparations.prepare

    def held(self: Any, job: Any) -> Any:
        assert opened.wait(30)
        return original(self, job)

    monkeypatch.setattr(resource, "AWAIT_PREPARATION_BYTES", 0)
    monkeypatch.setattr(resource, "PREPARE_HERE_BYTES", 0)
    monkeypatch.setattr(preparations, "prepare", held)
    yield opened
    opened.set()
