"""Big prepared files written by two processes: a forked child encodes the second half into a spill file."""

from __future__ import annotations

import contextlib
import os
from typing import BinaryIO

from client.prepare import fork
from client.prepare.table import Table
from client.prepare.writer import write_rows

# The parent's share of the rows. More than half: the child pays a copy-on-write fault for every page of its
# rows' strings (touching a string's reference count writes to it); measured best near 0.55 on the bench shapes.
PARENT_SHARE = 0.55


def write_parallel(table: Table, path: str) -> bool:
    """Write `table` to `path`, the second half encoded by a child meanwhile; False (nothing promised) if unable.

    A child that fails in any way leaves the parent to encode the second half itself: the file is always whole.
    """
    if not fork.available():
        return False
    half = int(len(table) * PARENT_SHARE)
    spill = _create_spill(path)
    if spill is None:
        return False
    try:
        with open(path, "wb") as handle:
            with fork.Child(lambda: _spill(table, half, spill)) as child:
                write_rows(handle, table, 0, half)
                written = child.result()
            if written is None or os.path.getsize(spill) != written:
                write_rows(handle, table, half, len(table))
            else:
                _append(handle, spill, written)
    finally:
        _remove(spill)
    return True


def _create_spill(path: str) -> str | None:
    """A new empty file beside `path` (same file system, so the kernel can copy it), or None if none can be made.

    Named by process id and a counter with O_EXCL rather than through `tempfile`, whose imports cost ~3 ms.
    """
    directory = os.path.dirname(os.path.abspath(path))
    for attempt in range(100):
        spill = os.path.join(directory, f".ftemu-prepare-{os.getpid()}-{attempt}.part")
        try:
            os.close(os.open(spill, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            continue
        except OSError:
            return None
        return spill
    return None


def _spill(table: Table, start: int, spill: str) -> int:
    """In the child: rows `start:` into the spill file; the bytes written."""
    with open(spill, "wb") as handle:
        return write_rows(handle, table, start, len(table))


def _append(handle: BinaryIO, spill: str, size: int) -> None:
    """The spill file's bytes after what `handle` holds, copied in the kernel when it can."""
    handle.flush()
    with open(spill, "rb") as source:
        try:
            left = size
            while left > 0:
                copied = os.copy_file_range(source.fileno(), handle.fileno(), left)
                if copied == 0:
                    raise OSError("copy_file_range copied nothing")
                left -= copied
        except OSError:
            source.seek(size - left)
            handle.seek(0, os.SEEK_END)
            while block := source.read(1 << 20):
                handle.write(block)


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
