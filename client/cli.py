"""The `ftemu` command: `serve` runs the emulator; `api` and `tools` read like the legacy `openai` CLI."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:  # httpx, the client library and the output helpers load only for `api` and `tools`
    import httpx

GLOBAL_OPTIONS = ("-b", "--api-base", "-k", "--api-key", "-o", "--organization")
DELEGATED = {
    ("serve",): ("client.cli_serve", "the emulator"),
    ("conformance",): ("conformance.cli", "the conformance kit"),
    ("tools", "fine_tunes.prepare_data"): ("client.prepare.cli", "the data-preparation tool"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ftemu", description="A local emulator of OpenAI's fine-tuning API.")
    parser.add_argument("-V", "--version", action="version", version="ftemu 0.1.0")
    parser.add_argument(
        "-b",
        "--api-base",
        help="API base URL (default: $FTEMU_API_BASE, $OPENAI_API_BASE, "
        "$OPENAI_BASE_URL, else https://api.openai.com/v1).",
    )
    parser.add_argument("-k", "--api-key", help="API key (default: $OPENAI_API_KEY).")
    parser.add_argument("-o", "--organization", help="Organization (default: $OPENAI_ORGANIZATION).")
    commands = parser.add_subparsers(dest="command", metavar="{serve,api,tools,conformance}")
    commands.add_parser("serve", add_help=False, help="Run the emulator (base URL http://HOST:PORT/v1).")
    from client.cli_api import add_api_commands

    api = commands.add_parser("api", help="Direct API calls (the legacy CLI's commands).")
    add_api_commands(api)
    api.set_defaults(help_parser=api)
    tools = commands.add_parser("tools", help="Client side tools for convenience.")
    tool_commands = tools.add_subparsers(title="tools", metavar="TOOL")
    tools.set_defaults(help_parser=tools)
    tool_commands.add_parser(
        "fine_tunes.prepare_data",
        add_help=False,
        help="Check and fix a training data file (CSV, TSV, XLSX, JSON, JSONL).",
    )
    from client.choose_model import add_choose_model

    add_choose_model(tool_commands)
    commands.add_parser("conformance", add_help=False, help="Run the conformance kit against a target.")
    return parser


def _delegated(argv: list[str]) -> tuple[int, tuple[str, ...]] | None:
    """Where the delegated command's words start in argv (after the global options), and which they are."""
    index = 0
    while index < len(argv) and argv[index].startswith("-"):
        index += 1 if "=" in argv[index] or argv[index] not in GLOBAL_OPTIONS else 2
    for words in DELEGATED:
        if tuple(argv[index : index + len(words)]) == words:
            return index, words
    return None


def _delegate(argv: list[str]) -> int | None:
    """`serve`, `conformance` and `tools fine_tunes.prepare_data` hand the rest of argv to their own main()."""
    found = _delegated(argv)
    if found is None:
        return None
    index, words = found
    module_name, what = DELEGATED[words]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        print(f"ftemu: {what} is not installed ({exc})", file=sys.stderr)
        return 1
    try:
        code: int = module.main(argv[index + len(words) :])
    except SystemExit as exc:
        return _exit_code(exc)
    return code


def _exit_code(exc: SystemExit) -> int:
    """argparse's and sys.exit's codes as an int (None is success, a message is failure)."""
    if exc.code is None or isinstance(exc.code, int):
        return exc.code or 0
    print(exc.code, file=sys.stderr)
    return 1


def _run_api(args: argparse.Namespace, http: httpx.Client | None) -> int:
    from client._client import Client
    from client.cli_api import UsageError
    from client.cli_output import Output
    from client.errors import FtemuError

    output = Output(sys.stdout, sys.stderr, json=getattr(args, "json", False))
    args.prefix = f"ftemu -b {args.api_base} api" if args.api_base else "ftemu api"
    client = Client(args.api_base, args.api_key, args.organization, http=http)
    try:
        code: int = args.api(client, args, output)
        return code
    except UsageError as exc:
        output.error(f"ftemu: {exc.message}")
        return 2
    except FtemuError as exc:
        output.error(exc.line())
        return 1
    except OSError as exc:
        output.error(f"Error: {exc}")
        return 1
    except KeyboardInterrupt:
        output.error("")
        return 1
    finally:
        client.close()


def main(argv: Sequence[str] | None = None, *, http: httpx.Client | None = None) -> int:
    """Run one command; `http` (an httpx.Client such as starlette's TestClient) replaces the network."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    delegated = _delegate(arguments)
    if delegated is not None:
        return delegated
    parser = build_parser()
    try:
        args = parser.parse_args(arguments)
    except SystemExit as exc:
        return _exit_code(exc)
    if hasattr(args, "api"):
        return _run_api(args, http)
    if hasattr(args, "tool"):
        code: int = args.tool(args, http)
        return code
    getattr(args, "help_parser", parser).print_help()
    return 0


def entry() -> NoReturn:
    """The `ftemu` console script. After the data-preparation tool it leaves at once (see `exit_now` there)."""
    arguments = sys.argv[1:]
    code = main(arguments)
    found = _delegated(arguments)
    if found is not None and found[1] == ("tools", "fine_tunes.prepare_data"):
        from client.prepare.cli import exit_now

        exit_now(code)
    sys.exit(code)
