"""Serving the app with uvicorn: `ftemu serve` and `python -m emulator`."""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence

import uvicorn

from emulator.app import create_app
from emulator.settings import Settings, parse_settings


def serve(settings: Settings) -> None:
    """Run until SIGINT/SIGTERM; uvicorn drains connections and the lifespan closes the store."""
    try:
        app = create_app(settings)
    except (ValueError, OSError) as exc:
        raise SystemExit(f"ftemu serve: {exc}") from None
    print(
        f"ftemu listening on http://{settings.host}:{settings.port}/v1 "
        f"(clock {settings.clock}, speed {settings.speed}, "
        f"{'in memory' if settings.memory else 'data in ' + settings.data_dir})",
        file=sys.stderr,
        flush=True,
    )
    # uvicorn drains, then re-raises the signal it caught: make that a clean exit (status 0), not a kill.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level, timeout_graceful_shutdown=3)


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        settings = parse_settings(sys.argv[1:] if argv is None else argv)
    except (ValueError, OSError) as exc:
        print(f"ftemu serve: {exc}", file=sys.stderr)
        return 2
    serve(settings)
    return 0
