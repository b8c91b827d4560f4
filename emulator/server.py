"""Serving the app with uvicorn: `ftemu serve` and `python -m emulator`."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

import uvicorn

from emulator.app import create_app
from emulator.core.tokens import encoding_for_model
from emulator.settings import Settings, parse_settings
from emulator.store import Store

WARM_UP_DELAY = 1.0
WARM_MODERN_MODEL = "gpt-4o-mini-2024-07-18"  # o200k_base, the encoding of every current model


def serve(settings: Settings) -> None:
    """Run until SIGINT/SIGTERM; uvicorn drains connections and the lifespan closes the store."""
    try:
        app = create_app(settings)
    except (ValueError, OSError) as exc:
        raise SystemExit(f"ftemu serve: {exc}") from None
    print(
        f"ftemu listening on http://{settings.host}:{settings.port}/v1 "
        f"(clock {settings.clock}, speed {settings.speed}, "
        f"{'in memory' if settings.memory else 'data in ' + settings.data_dir}; "
        f"{'access log on' if settings.access_log else 'no access log: --access-log to add one'})",
        file=sys.stderr,
        flush=True,
    )
    # uvicorn drains, then re-raises the signal it caught: make that a clean exit (status 0), not a kill.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    # Background threads (a big job's preparation, an index) hand the GIL back to the event loop after 0.2 ms of
    # pure-Python work instead of 5: each time a request's SQLite call lets go of the GIL it waits that long to
    # get it back, and a request makes several (a probe's worst wait during a 100,000-example job: 0.1-0.34 s
    # at 1 ms, 0.05-0.07 s at 0.2 ms). With no background work there is nobody to switch to.
    sys.setswitchinterval(0.0002)
    warm = threading.Timer(WARM_UP_DELAY, _warm_up, args=(app.state.core.store,))
    warm.daemon = True
    warm.start()
    uvicorn.run(app, **uvicorn_options(settings))


def _warm_up(store: Store) -> None:
    """Load the tokenizers once the server answers, so no create or completion waits for one: GPT-3's, the
    current models' (o200k_base: gpt-4o-mini, gpt-4.1 and the rest) and those of the snapshots stored jobs tune
    (cl100k_base for gpt-3.5-turbo). Later than start-up, so the first requests do not share the CPU with it.
    tiktoken builds an encoding holding the GIL (0.05 s for GPT-3's, 0.17 s for o200k_base's): built during a
    job, that pause was the longest wait of a modern 100,000-conversation job's other requests. o200k_base
    costs ~70 MB of memory."""
    encoding_for_model("davinci")
    for base_model in [WARM_MODERN_MODEL, *store.fine_tuning_base_models()]:
        encoding_for_model(base_model)


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """uvloop and httptools when installed (uvicorn[standard]), asyncio and h11 otherwise; no access log unless asked.

    "auto" is uvicorn's own fallback: where uvloop or httptools did not install (Windows, PyPy, no compiler),
    the server starts on the pure-Python pair with no error. The start-up line above is the one-line journal;
    `--access-log` adds uvicorn's per-request line.
    """
    return {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "access_log": settings.access_log,
        "loop": "auto",
        "http": "auto",
        "timeout_graceful_shutdown": 3,
    }


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
