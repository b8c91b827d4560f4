"""Storage reservations: the bytes of uploads in flight, so that concurrent uploads cannot pass the limit together."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class StorageFull(Exception):
    """An upload that would take an organisation past its storage limit; `used` counts uploads in flight too."""

    def __init__(self, used: int) -> None:
        super().__init__(used)
        self.used = used


class Reservation:
    """One upload's reserved bytes; settle() runs its write and hands the bytes to the store in one step."""

    def __init__(self, ledger: StorageLedger, organization_id: str, size: int) -> None:
        self._ledger = ledger
        self._organization_id = organization_id
        self._size = size
        self._open = True

    def settle(self, write: Callable[[], None]) -> None:
        """Run the store write while the reservation is still held, then drop it (no instant counts it twice)."""
        with self._ledger.lock:
            write()
            self.release()

    def release(self) -> None:
        with self._ledger.lock:
            if self._open:
                self._ledger.pending[self._organization_id] -= self._size
                self._open = False


class StorageLedger:
    """Per organisation, the bytes reserved by uploads that are being written; checked and taken under one lock."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.pending: dict[str, int] = {}

    @contextmanager
    def reserve(self, organization_id: str, size: int, stored: Callable[[], int], limit: int) -> Iterator[Reservation]:
        """Reserve `size` bytes or raise StorageFull; the reservation ends with the block (settled or not)."""
        with self.lock:
            used = stored() + self.pending.get(organization_id, 0)
            if used + size > limit:
                raise StorageFull(used)
            self.pending[organization_id] = self.pending.get(organization_id, 0) + size
        reservation = Reservation(self, organization_id, size)
        try:
            yield reservation
        finally:
            reservation.release()
