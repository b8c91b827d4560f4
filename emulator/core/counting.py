"""Token counts of many texts: a big batch in a worker process, so the second core counts while this one works on.

tiktoken gives the GIL back while it encodes, yet two threads encoding at once ran no faster than one on the
2-core machines measured, and a thread encoding beside a Python thread slowed both. A process has its own
interpreter: a 100,000-example file's 200,000 texts (~1 s of counting) are counted there while the preparing
thread keeps the examples and builds the model's index. Small batches are counted in the caller's thread (a
process costs ~0.15 s to start). Where a process cannot be started or dies, the caller counts them itself.
"""

from __future__ import annotations

import contextlib
import logging
import pickle
import sys
from array import array
from collections.abc import Iterator, Sequence
from typing import Protocol

from emulator.core.elsewhere import Elsewhere, exit_with_parent
from emulator.core.tokens import encoding_named

log = logging.getLogger("ftemu")
# Below this many characters in all the texts are counted in the caller's thread (~0.2 s of counting here).
PROCESS_CHARACTERS = 2_000_000
SEND_TEXTS = 10_000  # texts pickled at a time to the worker process


def count_texts(encoding: str, texts: Sequence[str]) -> list[int]:
    """The tokens of each text (a plain loop: tiktoken's batch call pays a thread-pool future per text)."""
    encode = encoding_named(encoding).encode_ordinary
    return [len(encode(text)) for text in texts]


class Counting(Protocol):
    """Counts being made; `result` waits for them."""

    def result(self) -> list[int]: ...


class Counted:
    """Counts made in the caller's thread, at once."""

    def __init__(self, counts: list[int]) -> None:
        self._counts = counts

    def result(self) -> list[int]:
        return self._counts


def _serve_one() -> None:
    """The worker process (`python -m emulator.core.counting`): a pickled (encoding, number of slices) on stdin,
    then each slice of texts pickled; their counts on stdout as little-endian uint32."""
    exit_with_parent()
    encoding, chunks = pickle.load(sys.stdin.buffer)
    counts = array("I")
    for _ in range(chunks):
        counts.extend(count_texts(encoding, pickle.load(sys.stdin.buffer)))
    if sys.byteorder != "little":
        counts.byteswap()
    with contextlib.suppress(BrokenPipeError):  # the server stopped meanwhile: nobody wants the answer
        sys.stdout.buffer.write(counts.tobytes())
        sys.stdout.buffer.flush()


class CountedElsewhere:
    """Counts made by a worker process of their own (emulator/core/elsewhere.py)."""

    def __init__(self, encoding: str, texts: Sequence[str]) -> None:
        self._encoding, self._texts = encoding, texts
        self._process = Elsewhere("emulator.core.counting", self._input())

    def _input(self) -> Iterator[bytes]:
        """In slices: one pickle of every text would hold the GIL (and the event loop) for tens of ms."""
        starts = range(0, len(self._texts), SEND_TEXTS)
        yield pickle.dumps((self._encoding, len(starts)), protocol=pickle.HIGHEST_PROTOCOL)
        for start in starts:
            yield pickle.dumps(list(self._texts[start : start + SEND_TEXTS]), protocol=pickle.HIGHEST_PROTOCOL)

    def result(self) -> list[int]:
        data = self._process.output()
        if data is None or len(data) != 4 * len(self._texts):
            log.warning(
                "the token-counting process ended without its answer (exit %s); counting in this one",
                self._process.returncode,
            )
            return count_texts(self._encoding, self._texts)
        counts = array("I")
        counts.frombytes(data)
        if sys.byteorder != "little":
            counts.byteswap()
        return counts.tolist()


def start_counting(encoding: str, texts: Sequence[str]) -> Counting:
    """The texts' token counts: in a worker process when they are big enough to be worth one, else here."""
    if sum(map(len, texts)) < PROCESS_CHARACTERS:
        return Counted(count_texts(encoding, texts))
    try:
        return CountedElsewhere(encoding, texts)
    except (OSError, ValueError) as exc:  # no process to be had here (a sandbox, no executable)
        log.warning("could not start a token-counting process (%s); counting in this one", exc)
        return Counted(count_texts(encoding, texts))


if __name__ == "__main__":
    _serve_one()
