"""Running the `ftemu` CLI inside a test: captured stdout/stderr/stdin and an optional in-process transport."""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from client.cli import main


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str


class _Terminal(io.StringIO):
    """A StringIO that says it is a terminal (to exercise the live status line and the redrawn bar)."""

    def isatty(self) -> bool:
        return True


def run_cli(
    argv: Sequence[str], *, http: httpx.Client | None = None, stdin: str = "", terminal: bool = False
) -> CliResult:
    """`ftemu *argv` in this process; `http` replaces the network (e.g. starlette's TestClient)."""
    out: io.StringIO = _Terminal() if terminal else io.StringIO()
    err = io.StringIO()
    saved_stdin = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(argv), http=http)
    finally:
        sys.stdin = saved_stdin
    return CliResult(code, out.getvalue(), err.getvalue())
