"""The `ftemu` command: `serve` runs the emulator; `api` and `tools` read like the legacy `openai` CLI."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from emulator.settings import add_arguments, load_settings


def _serve(args: argparse.Namespace) -> int:
    from emulator.server import serve

    try:
        settings = load_settings(args)
    except ValueError as exc:
        print(f"ftemu serve: {exc}", file=sys.stderr)
        return 2
    serve(settings)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ftemu", description="A local emulator of OpenAI's fine-tuning API.")
    commands = parser.add_subparsers(dest="command", metavar="{serve,api,tools}")
    serve = commands.add_parser("serve", help="Run the emulator (base URL http://HOST:PORT/v1).")
    add_arguments(serve)
    serve.set_defaults(run=_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else list(argv))
    if not hasattr(args, "run"):
        parser.print_help()
        return 0
    code: int = args.run(args)
    return code
