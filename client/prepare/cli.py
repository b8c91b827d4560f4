"""`ftemu tools fine_tunes.prepare_data`: the legacy tool's command line, plus `--tokens`, `--json`, `--check`."""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from collections.abc import Sequence
from typing import NoReturn, TextIO

from client.prepare.session import Options, Session

FILE_HELP = (
    "JSONL, JSON, CSV, TSV, TXT or XLSX file containing prompt-completion examples to be analyzed."
    "This should be the local file path."
)
QUIET_HELP = "Auto accepts all suggestions, without asking for user input. To be used within scripts."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The legacy flags, then ftemu's (off by default, so the default output stays byte-compatible)."""
    parser.add_argument("-f", "--file", required=True, help=FILE_HELP)
    parser.add_argument("-q", "--quiet", required=False, action="store_true", help=QUIET_HELP)
    extra = parser.add_argument_group("ftemu additions")
    extra.add_argument(
        "--tokens",
        action="store_true",
        help="Count tokens exactly (r50k_base), list examples over 2048 tokens and estimate the cost "
        "per base model at 4 epochs.",
    )
    extra.add_argument("--json", metavar="REPORT", help="Also write a machine-readable report to this path.")
    extra.add_argument(
        "--check",
        action="store_true",
        help="Change and write nothing; exit 3 if a necessary fix is needed, 1 on an error (for CI).",
    )
    extra.add_argument(
        "--line-numbers",
        action="store_true",
        help="Name the offending line when a file cannot be parsed (implied by --check).",
    )


def run(
    args: argparse.Namespace, stdin: TextIO | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    options = Options(
        path=args.file,
        quiet=args.quiet,
        tokens=args.tokens,
        check=args.check,
        line_numbers=args.line_numbers or args.check,
    )
    session = Session(options, stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr)
    keep_big_blocks()
    collecting = gc.isenabled()
    gc.disable()  # millions of short-lived strings and no cycles: the cyclic collector only costs time here
    try:
        code = session.run()
    finally:
        if collecting:
            gc.enable()
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(session.report(code), handle, ensure_ascii=False, indent=2)
            handle.write("\n")
    return code


def keep_big_blocks() -> None:
    """Let the C allocator reuse freed multi-megabyte blocks instead of returning them to the system.

    The tool's temporary buffers (a batch of joined values, its encoded lines) are a few MB each, above glibc's
    initial 128 KiB mmap threshold, so each one is mapped fresh and every page faults on first touch: half the
    writer's time on long rows. glibc raises that threshold to the size of any such block freed (mallopt(3),
    "dynamic mmap threshold"), so one 16 MiB block, allocated untouched (calloc of fresh pages) and freed at once,
    sets it for the rest of the run. Elsewhere it is one allocation and one free.
    """
    bytes(BIG_BLOCK)


BIG_BLOCK = 16 * 2**20  # at most glibc's DEFAULT_MMAP_THRESHOLD_MAX (32 MiB on 64-bit), with room for its header


def build_parser(prog: str = "ftemu tools fine_tunes.prepare_data") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description="Check and prepare a fine-tuning data set.")
    add_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    return run(args)


def entry(argv: Sequence[str] | None = None) -> NoReturn:
    exit_now(main(None if argv is None else list(argv)))


def exit_now(code: int) -> NoReturn:
    """End the process with `code` once the standard streams are flushed, without tearing the interpreter down.

    Only for the process's own entry points (`python -m client.prepare`, the `ftemu` script), never in-process
    callers. The tool has closed its files by then; what is skipped is freeing every string of the table one by
    one and unloading modules, 15-30 ms on 100,000 rows, which the operating system does at once.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed stream or a reader that went away: nothing more can be said
            code = code or 1
    os._exit(code)
