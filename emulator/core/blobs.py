"""File contents on disk: one blob per file id, written atomically (temp file, fsync, rename)."""

from __future__ import annotations

import itertools
import os
import secrets
import shutil
import tempfile
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 16
TEMP_PREFIX = ".upload-"
MTIME_MARGIN = 2.0  # seconds: file systems that keep coarse modification times still order a sweep correctly
# Temp names: this process's own prefix and a counter (tempfile.mkstemp draws a random name each time, which
# cost more than the rest of a small upload's writing).
_TEMP_NAMES = itertools.count()
_TEMP_TAG = secrets.token_hex(4)


class BlobStore:
    """Keeps each file's bytes under root/<id>; a reader never sees a half-written blob."""

    def __init__(self, root: Path | None) -> None:
        self._temporary = root is None
        self.root = Path(tempfile.mkdtemp(prefix="ftemu-blobs-")) if root is None else root
        self.root.mkdir(parents=True, exist_ok=True)
        # A throw-away directory goes when the store does, even if nobody calls close().
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.root, True) if self._temporary else None

    def path(self, file_id: str) -> Path:
        return self.root / file_id

    def writer(self) -> BlobWriter:
        # A throw-away directory (--memory) dies with the process: syncing it to disk buys nothing.
        return BlobWriter(self.root, durable=not self._temporary)

    def write_bytes(self, file_id: str, data: bytes) -> None:
        with self.writer() as writer:
            writer.write(data)
            writer.commit(file_id)

    def read_chunks(self, file_id: str) -> Iterator[bytes]:
        return chunks_of(self.open(file_id))

    def open(self, file_id: str) -> BinaryIO:
        """The blob, open for reading (FileNotFoundError if it is gone); it stays readable after a delete."""
        return open(self.path(file_id), "rb")

    def read_bytes(self, file_id: str) -> bytes:
        return self.path(file_id).read_bytes()

    def delete(self, file_id: str) -> None:
        self.path(file_id).unlink(missing_ok=True)

    def sweep(self, live_ids: Callable[[], set[str]], before: float) -> tuple[int, int]:
        """Remove crash leftovers: temp files of interrupted uploads and blobs no live file owns, among those last
        written before `before` (when the store was opened, less a margin for coarse file times), so that it can
        run while the server works: an upload in progress is newer. The live ids are read after the listing, so
        a file committed meanwhile keeps its blob. Returns (files removed, bytes freed)."""
        candidates = []
        for child in self.root.iterdir():
            try:
                status = child.stat()
            except FileNotFoundError:
                continue
            if child.is_file() and status.st_mtime < before - MTIME_MARGIN:
                candidates.append((child, status.st_size))
        live = live_ids()
        removed = freed = 0
        for child, size in candidates:
            if child.name.startswith(TEMP_PREFIX) or child.name not in live:
                child.unlink(missing_ok=True)
                removed, freed = removed + 1, freed + size
        return removed, freed

    def clear(self) -> None:
        for child in self.root.iterdir():
            if child.is_file():
                child.unlink()

    def close(self) -> None:
        if self._cleanup is not None:
            self._cleanup()


def chunks_of(handle: BinaryIO) -> Iterator[bytes]:
    """An open blob's bytes, CHUNK at a time; the handle is closed at the end or when the reader stops."""
    with handle:
        while chunk := handle.read(CHUNK):
            yield chunk


class BlobWriter:
    """A temp file in the blob directory; commit() renames it into place, anything else removes it."""

    def __init__(self, root: Path, *, durable: bool = True) -> None:
        self._root = root
        self._durable = durable
        self._temp = root / f"{TEMP_PREFIX}{os.getpid()}-{_TEMP_TAG}-{next(_TEMP_NAMES)}"
        descriptor = os.open(self._temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
        self._handle: BinaryIO = os.fdopen(descriptor, "wb")
        self.size = 0
        self._done = False

    def write(self, chunk: bytes) -> None:
        self._handle.write(chunk)
        self.size += len(chunk)

    def commit(self, file_id: str) -> None:
        self._handle.flush()
        if self._durable:
            os.fsync(self._handle.fileno())
        self._handle.close()
        os.replace(self._temp, self._root / file_id)
        self._done = True

    def discard(self) -> None:
        if not self._handle.closed:
            self._handle.close()
        self._temp.unlink(missing_ok=True)
        self._done = True

    def __enter__(self) -> BlobWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._done:
            self.discard()
