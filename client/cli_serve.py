"""`ftemu serve`: run the emulator (imported only for this command, so `ftemu api` starts fast)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from emulator.settings import add_arguments, load_settings


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="ftemu serve", description="Run the emulator (base URL http://HOST:PORT/v1).")
    add_arguments(parser)
    args = parser.parse_args(list(argv))
    try:
        settings = load_settings(args)
    except ValueError as exc:
        print(f"ftemu serve: {exc}", file=sys.stderr)
        return 2
    from emulator.server import serve

    serve(settings)
    return 0
