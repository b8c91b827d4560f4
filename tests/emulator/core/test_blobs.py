"""Both blob stores keep the same contract: atomic writes, reads that outlive a delete, moves, clears."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.core.blobs import BlobStore, DiskBlobStore, MemoryBlobStore


@pytest.fixture(params=["memory", "disk"])
def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlobStore]:
    store: BlobStore = MemoryBlobStore() if request.param == "memory" else DiskBlobStore(tmp_path / "files")
    yield store
    store.close()


def test_a_blob_is_there_only_once_committed(blobs: BlobStore) -> None:
    with blobs.writer() as writer:
        writer.write(b"ab")
        writer.write(bytearray(b"cd"))
        assert not blobs.exists("file-1") and writer.size == 4
        writer.commit("file-1")
    assert blobs.read_bytes("file-1") == b"abcd" and b"".join(blobs.read_chunks("file-1")) == b"abcd"


def test_a_writer_left_without_commit_leaves_nothing(blobs: BlobStore) -> None:
    with blobs.writer() as writer:
        writer.write(b"partial")
    assert not blobs.exists("file-2")
    with pytest.raises(FileNotFoundError):
        blobs.read_bytes("file-2")


def test_an_open_blob_stays_readable_after_a_delete(blobs: BlobStore) -> None:
    blobs.write_bytes("file-3", b"kept")
    handle = blobs.open("file-3")
    blobs.delete("file-3")
    assert handle.read() == b"kept" and not blobs.exists("file-3")
    handle.close()
    with pytest.raises(FileNotFoundError):
        blobs.open("file-3")


def test_move_gives_a_blob_another_id(blobs: BlobStore) -> None:
    blobs.write_bytes("results-of-ft-1.csv", b"step,loss\n")
    assert blobs.move("results-of-ft-1.csv", "file-4") == 10
    assert blobs.read_bytes("file-4") == b"step,loss\n" and not blobs.exists("results-of-ft-1.csv")
    with pytest.raises(FileNotFoundError):
        blobs.move("results-of-ft-1.csv", "file-5")


def test_clear_forgets_every_blob(blobs: BlobStore) -> None:
    blobs.write_bytes("file-6", b"x")
    blobs.clear()
    assert not blobs.exists("file-6")


def test_the_memory_store_touches_no_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    blobs = MemoryBlobStore()
    blobs.write_bytes("file-7", b"y" * 100_000)
    assert list(tmp_path.iterdir()) == [] and blobs.read_bytes("file-7") == b"y" * 100_000
