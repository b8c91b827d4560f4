"""Nearest-prompt indexes by name: made once, kept as one file each, read back in one go, cached by bytes.

A name's index is made once (a second caller waits for the first), written as `<directory>/<name>.nearest`,
and read back instead of being made again after a restart. Its similarity part follows in the background (and
the file is written again with it). In memory the most recently used indexes are kept up to a byte budget.
The legacy tuned models (tuned.py) and the models of fine-tuning jobs (chat_knowledge.py) each keep theirs so.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

from emulator.core.background import Background
from emulator.inference.completing import complete
from emulator.inference.nearest import NearestIndex

log = logging.getLogger("ftemu")
CACHE_BYTES = 256 * 1024 * 1024  # ~6 indexes of 100,000 examples
# Up to this many examples the similarity part waits for its first use (a few milliseconds then, on the caller's
# thread): most small models only ever get their training prompts, and a hand-over to a worker costs more.
LAZY_SIMILARITY_EXAMPLES = 300


def completing(index: NearestIndex) -> bool:
    """Whether its similarity part may still be being built in the background: a lookup that needs it waits, so
    answer off the event loop until it is done."""
    return not index.complete and len(index) > LAZY_SIMILARITY_EXAMPLES


class KeptIndexes:
    """Indexes by name (a name's examples never change once it exists): cached, else read, else made."""

    def __init__(
        self,
        capacity: int | None = None,
        *,
        max_bytes: int = CACHE_BYTES,
        directory: Path | None = None,
        lazy_similarity: int = LAZY_SIMILARITY_EXAMPLES,
        thread: str = "ftemu-index",
    ):
        self.capacity = capacity
        self.lazy_similarity = lazy_similarity
        self.max_bytes = max_bytes
        self.directory = directory
        self._indexes: OrderedDict[str, NearestIndex] = OrderedDict()
        self._sizes: dict[str, int] = {}  # each kept index's bytes when last counted
        self._bytes = 0
        self._building: dict[str, Future[NearestIndex]] = {}
        self._lock = threading.Lock()
        self._builder = Background(thread)

    def kept(self, name: str) -> NearestIndex | None:
        """The cached index (now the most recently used), or None."""
        with self._lock:
            index = self._indexes.get(name)
            if index is not None:
                self._indexes.move_to_end(name)
                self._count(name)  # a small index grows when a lookup builds its similarity part
            return index

    def made(self, name: str, make: Callable[[], NearestIndex]) -> NearestIndex:
        """The name's index, read from its file or made once: a second caller waits for the first.

        The exact-prompt part is made here; the similarity part follows in the background (and the file is
        written again with it), so a training prompt never waits for trigram postings. A small index builds its
        similarity part on first need instead (not written again: rebuilding it after a restart is as cheap).
        """
        with self._lock:
            pending = self._building.get(name)
            mine = pending is None
            if pending is None:
                pending = self._building[name] = Future()
        if not mine:
            return pending.result()
        try:
            built = self._load(name)
            if built is None:
                built = make()
                self._save(name, built)
            self._adopt(name, built)
            pending.set_result(built)
            return built
        except BaseException as exc:
            pending.set_exception(exc)
            raise
        finally:
            with self._lock:
                self._building.pop(name, None)

    def adopt(self, name: str, index: NearestIndex) -> None:
        """Keep an index made ahead of its first use: written to its file, cached, completed in the background."""
        self._save(name, index)
        self._adopt(name, index)

    def _adopt(self, name: str, index: NearestIndex) -> None:
        self._keep(name, index)
        if not index.complete and len(index) > self.lazy_similarity:
            self._in_background(self._complete, name, index)

    def _in_background(self, work: Callable[[str, NearestIndex], None], name: str, index: NearestIndex) -> None:
        self._builder.submit(work, name, index)

    def _complete(self, name: str, index: NearestIndex) -> None:
        """Build the similarity part and write the whole index again; the cache counts its new size."""
        try:
            complete(index)  # a big one's by a worker process: a thread here would hold the GIL for seconds
            self._save(name, index)
        except Exception:
            log.exception("could not complete the index %s", name)
        with self._lock:
            if name in self._indexes:
                self._count(name)
                self._evict()

    def settle(self) -> None:
        """Wait until every index being completed in the background is done (tests and benchmarks)."""
        self._builder.submit(lambda: None).result()

    def path(self, name: str) -> Path | None:
        """Where the name's index is kept (None in memory)."""
        return None if self.directory is None else self.directory / f"{name}.nearest"

    def _load(self, name: str) -> NearestIndex | None:
        path = self.path(name)
        if path is None or not path.exists():
            return None
        try:
            return NearestIndex.from_bytes(path.read_bytes())
        except (OSError, ValueError):
            log.warning("rebuilding the unreadable index %s", path)
            return None

    def _save(self, name: str, index: NearestIndex) -> None:
        """Write the index (one that cannot be written still answers: it is made again after a restart)."""
        path = self.path(name)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".partial")  # one writer per name at a time (see made)
            partial.write_bytes(index.to_bytes())
            os.replace(partial, path)
        except OSError:
            log.warning("could not write the index %s", path, exc_info=True)

    def _keep(self, name: str, index: NearestIndex) -> None:
        """Most recently used last; the oldest go while over the count or the bytes (the newest always stays)."""
        with self._lock:
            if name in self._indexes:
                return
            self._indexes[name] = index
            self._count(name)
            self._evict()

    def _count(self, name: str) -> None:
        """Under the lock: count one kept index's bytes again (it grows when its similarity part is built)."""
        size = self._indexes[name].nbytes
        self._bytes += size - self._sizes.get(name, 0)
        self._sizes[name] = size

    def _evict(self) -> None:
        """Under the lock: the least recently used go while over the budget (the newest always stays)."""
        while len(self._indexes) > 1 and self._over():
            dropped, _ = self._indexes.popitem(last=False)
            self._bytes -= self._sizes.pop(dropped)

    def _over(self) -> bool:
        counted = self.capacity is not None and len(self._indexes) > self.capacity
        return counted or self._bytes > self.max_bytes

    def forget(self) -> None:
        """Drop every cached index (a reset); files stay, named by job ids that are never reused."""
        with self._lock:
            self._indexes.clear()
            self._sizes.clear()
            self._bytes = 0

    @property
    def nbytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._indexes)
