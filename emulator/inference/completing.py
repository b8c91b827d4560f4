"""The similarity part of a big index, built by a worker process (emulator/core/elsewhere.py).

Building the trigram postings of 100,000 examples is seconds of pure Python (2 s for the legacy bench's
prompts, 11-14 s for 100,000 conversations sharing a system prompt). On a thread of the server it held the GIL
throughout: every request waited for it at each of its C calls, up to a quarter of a second for an
instant-speed job's catch-up. The worker gets the index's exact part as bytes (`NearestIndex.to_bytes`) and
answers the whole index; the server takes its postings. Smaller indexes are completed on the thread, and so is
any whose worker fails.
"""

from __future__ import annotations

import contextlib
import logging
import sys

from emulator.core.elsewhere import Elsewhere, exit_with_parent
from emulator.inference.nearest import NearestIndex

log = logging.getLogger("ftemu")
# From this many examples the similarity part is built by a worker process (~0.1 s to start one).
PROCESS_EXAMPLES = 10_000


def complete(index: NearestIndex) -> None:
    """Build the index's similarity part: by a worker process when it is big, else here."""
    if index.complete or (len(index) >= PROCESS_EXAMPLES and _completed_elsewhere(index)):
        return
    index.postings  # noqa: B018 - building it is the point


def _completed_elsewhere(index: NearestIndex) -> bool:
    try:
        built = Elsewhere("emulator.inference.completing", [index.to_bytes()]).output()
        if built is not None:
            index.take_postings(NearestIndex.from_bytes(built))
            return True
        log.warning("the index-completing process ended without its answer; completing the index here")
    except (OSError, ValueError) as exc:
        log.warning("could not complete an index in a worker process (%s); completing it here", exc)
    return False


def _serve_one() -> None:
    """The worker process: an index's bytes on stdin, the same index with its similarity part on stdout."""
    exit_with_parent()
    index = NearestIndex.from_bytes(sys.stdin.buffer.read())
    index.postings  # noqa: B018 - building it is the point
    with contextlib.suppress(BrokenPipeError):  # the server stopped meanwhile: nobody wants the answer
        sys.stdout.buffer.write(index.to_bytes())
        sys.stdout.buffer.flush()


if __name__ == "__main__":
    _serve_one()
