"""Core: what one emulator instance holds, with no web framework (the app keeps one on app.state.core)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

from emulator.core.blobs import BlobStore
from emulator.core.clock import Clock
from emulator.core.faults import FaultRegistry
from emulator.core.journal import Journal
from emulator.core.notifier import Notifier
from emulator.core.orgs import Authenticator
from emulator.core.outcomes import Outcomes
from emulator.core.problems import UploadChecker
from emulator.core.queue import Scheduler
from emulator.core.quota import StorageLedger
from emulator.core.webhooks import Webhooks
from emulator.inference.chat_knowledge import ChatModels
from emulator.inference.tuned import TunedModels
from emulator.settings import Settings
from emulator.store import Organization, Store

MAX_STREAM_WAIT = 2.0


@dataclass
class Core:
    """What one app holds: settings, store, blobs, clock, organisations, the scheduler and what they share."""

    settings: Settings
    store: Store
    blobs: BlobStore
    clock: Clock
    auth: Authenticator
    scheduler: Scheduler
    notifier: Notifier
    tuned_models: TunedModels = field(default_factory=TunedModels)
    chat_models: ChatModels = field(default_factory=ChatModels)
    completion_counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    # Each purpose's upload check, by purpose; an API generation registers its own (legacy: fine-tune JSONL).
    upload_checkers: dict[str, Callable[[], UploadChecker]] = field(default_factory=dict)
    # The test-control plane: HTTP faults, the request journal, scripted outcomes, webhook delivery.
    faults: FaultRegistry = field(default_factory=lambda: FaultRegistry(None))
    journal: Journal = field(default_factory=Journal)
    outcomes: Outcomes = field(default_factory=Outcomes)
    webhooks: Webhooks | None = None
    # Bytes of uploads in flight per organisation: the storage limit holds under concurrent uploads.
    storage: StorageLedger = field(default_factory=StorageLedger)
    # The start-up sweep of crash leftovers in the blob directory, running on a worker thread (None in memory).
    sweeping: Future[None] | None = None

    def now(self) -> float:
        return self.clock.now()

    def now_seconds(self) -> int:
        return int(self.clock.now())

    def catch_up(self, organization: Organization) -> None:
        """Apply every planned transition of the organisation's jobs that is due by now."""
        self.scheduler.catch_up(organization, self.clock.now())

    def wake(self, organization_id: str) -> None:
        """A job was changed from outside its organisation's requests (the control plane): apply what is due now."""
        self.scheduler.wake(organization_id)
        organization = self.store.get_organization(organization_id)
        if organization is not None:
            self.catch_up(organization)

    async def wait_for_change(self, organization: Organization) -> None:
        """Sleep until the next planned transition, or until something changes, whichever comes first."""
        timeout = MAX_STREAM_WAIT
        if not self.clock.manual:
            due = self.scheduler.next_due(organization)
            if not math.isinf(due):
                timeout = min(MAX_STREAM_WAIT, max(0.005, due - self.clock.now()))
        await self.notifier.wait(timeout)

    def close(self) -> None:
        if self.webhooks is not None:
            self.webhooks.close()
        self.store.close()
        self.blobs.close()
