"""The notifier: wakes every waiting event stream when something changes (across event loops and threads)."""

from __future__ import annotations

import asyncio
import contextlib


class Notifier:
    """Wakes every waiting event stream when something changes (works across event loops)."""

    def __init__(self) -> None:
        self._waiting: dict[asyncio.AbstractEventLoop, asyncio.Event] = {}

    def notify(self) -> None:
        waiting, self._waiting = self._waiting, {}
        for loop, event in waiting.items():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(event.set)

    async def wait(self, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        event = self._waiting.setdefault(loop, asyncio.Event())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)
