"""A test-control fault: close every open event stream of a job at once, without `data: [DONE]`."""

from __future__ import annotations


class StreamDrops:
    """Counts each job's open event streams and a drop generation that a drop request bumps."""

    def __init__(self) -> None:
        self._open: dict[str, int] = {}
        self._generation: dict[str, int] = {}

    def opened(self, fine_tune_id: str) -> int:
        """Register an open stream; returns the generation it must compare against."""
        self._open[fine_tune_id] = self._open.get(fine_tune_id, 0) + 1
        return self._generation.get(fine_tune_id, 0)

    def closed(self, fine_tune_id: str) -> None:
        self._open[fine_tune_id] = max(0, self._open.get(fine_tune_id, 0) - 1)

    def dropped(self, fine_tune_id: str, generation: int) -> bool:
        return self._generation.get(fine_tune_id, 0) != generation

    def drop(self, fine_tune_id: str) -> int:
        """Mark every stream of the job open now as dropped; returns how many were open."""
        self._generation[fine_tune_id] = self._generation.get(fine_tune_id, 0) + 1
        return self._open.get(fine_tune_id, 0)
