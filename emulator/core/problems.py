"""Problem values: what a checker finds in a request or a file, before an API generation decides how to report it.

The legacy API turns a training-file Problem into a 400 at upload; the modern API reports it as a failed job's
`error`. Checkers never raise HTTP errors themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Problem:
    """One finding: a machine-readable code, the message as the API words it, the param and the line it names."""

    code: str
    message: str
    param: str | None = None
    line: int | None = None


class UploadChecker(Protocol):
    """Checks an upload while it streams in: fed chunk by chunk, then finished; the first Problem stops it."""

    def feed(self, chunk: bytes) -> Problem | None: ...

    def finish(self) -> Problem | None: ...
