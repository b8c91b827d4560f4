"""`ftemu api fine_tuning.jobs.*`: the 1.x `openai` CLI's modern commands (same names and flags, JSON output),
plus pause, resume, checkpoints and a follow mode that shows each step's loss."""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable
from typing import Any

from client._client import Client
from client.cli_create import get_or_upload
from client.cli_follow import CLEAR
from client.cli_output import Output, event_line
from client.errors import FtemuError

Command = Callable[[Client, argparse.Namespace, Output], int]
STEP = re.compile(r"^Step (\d+)/(\d+): training loss=([0-9.]+)")


def _json(value: Any, output: Output) -> int:
    output.print(json.dumps(value, indent=2))
    return 0


def _hyperparameters(raw: str | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        raise FtemuError(f"--hyperparameters must be a JSON object, not {raw!r}") from None
    if not isinstance(value, dict):
        raise FtemuError(f"--hyperparameters must be a JSON object, not {raw!r}")
    return value


def create(client: Client, args: argparse.Namespace, output: Output) -> int:
    training = get_or_upload(client, args.training_file, output, check_duplicates=False)
    validation = (
        get_or_upload(client, args.validation_file, output, check_duplicates=False) if args.validation_file else None
    )
    method = {"type": args.method} if args.method else None
    job = client.fine_tuning.jobs.create(
        args.model,
        training,
        validation_file=validation,
        suffix=args.suffix,
        hyperparameters=_hyperparameters(args.hyperparameters),
        method=method,
        seed=args.seed,
    )
    if not args.follow:
        return _json(job, output)
    output.info(f"Created fine-tuning job: {job['id']}")
    return follow_job(client, job["id"], output)


def progress(message: str) -> str | None:
    """`[running] step 3/96, training loss 1.23` for a metrics message, else None."""
    found = STEP.match(message)
    return f"[running] step {found.group(1)}/{found.group(2)}, training loss {found.group(3)}" if found else None


def follow_job(client: Client, job_id: str, output: Output) -> int:
    """Every event oldest first; on a terminal, a live line with the step and loss under them."""
    live = output.is_terminal() and not output.json
    try:
        for event in client.fine_tuning.jobs.follow(job_id):
            if live:
                output.print(CLEAR, end="")
            output.print(json.dumps(event) if output.json else event_line(event))
            line = progress(event["message"])
            if live and line:
                output.print(line, end="")
    except KeyboardInterrupt:
        output.print(f"\nStopped following. The job goes on: ftemu api fine_tuning.jobs.follow -i {job_id}")
        return 0
    if live:
        output.print(CLEAR, end="")
    job = client.fine_tuning.jobs.retrieve(job_id)
    if not output.json:
        output.print(
            f"\nJob {job['status']}." + (f" Model: {job['fine_tuned_model']}" if job["fine_tuned_model"] else "")
        )
    return 0 if job["status"] == "succeeded" else 1


def _by_id(name: str) -> Command:
    def run(client: Client, args: argparse.Namespace, output: Output) -> int:
        return _json(getattr(client.fine_tuning.jobs, name)(args.id), output)

    return run


def _paged(name: str) -> Command:
    def run(client: Client, args: argparse.Namespace, output: Output) -> int:
        method = getattr(client.fine_tuning.jobs, name)
        ids = (args.id,) if name != "list" else ()
        return _json(method(*ids, after=args.after, limit=args.limit), output)

    return run


def _follow(client: Client, args: argparse.Namespace, output: Output) -> int:
    return follow_job(client, args.id, output)


def _create_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-m", "--model", required=True, help="The model to fine-tune (a snapshot, or an ft: model).")
    p.add_argument("-F", "--training-file", required=True, help="The training file: an id or a local JSONL path.")
    p.add_argument("-H", "--hyperparameters", help="JSON, e.g. '{\"n_epochs\": 3}' (deprecated by the API).")
    p.add_argument("-s", "--suffix", help="Up to 64 characters added to the fine-tuned model name.")
    p.add_argument("-V", "--validation-file", help="The validation file: an id or a local JSONL path.")
    p.add_argument("--method", choices=("supervised", "dpo", "reinforcement"), help="The training method.")
    p.add_argument("--seed", type=int, help="The job's seed.")
    p.add_argument("--follow", action="store_true", help="Print the events until the job is over.")


def _paging_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-a", "--after", help="The id of the last item of the previous page.")
    p.add_argument("-l", "--limit", type=int, help="How many items to return.")


# (command, run, help, takes -i/--id, extra options)
COMMANDS: list[tuple[str, Command, str, bool, Callable[[argparse.ArgumentParser], None] | None]] = [
    ("fine_tuning.jobs.create", create, "Create a fine-tuning job", False, _create_options),
    ("fine_tuning.jobs.retrieve", _by_id("retrieve"), "Show a fine-tuning job", True, None),
    ("fine_tuning.jobs.list", _paged("list"), "List fine-tuning jobs", False, _paging_options),
    ("fine_tuning.jobs.cancel", _by_id("cancel"), "Cancel a fine-tuning job", True, None),
    ("fine_tuning.jobs.list_events", _paged("list_events"), "List a job's events", True, _paging_options),
    ("fine_tuning.jobs.pause", _by_id("pause"), "Pause a running job", True, None),
    ("fine_tuning.jobs.resume", _by_id("resume"), "Resume a paused job", True, None),
    (
        "fine_tuning.jobs.checkpoints.list",
        _paged("list_checkpoints"),
        "List a job's checkpoints",
        True,
        _paging_options,
    ),
    ("fine_tuning.jobs.follow", _follow, "Print a job's events until it is over", True, None),
]


def add_fine_tuning_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    for name, run, help, needs_id, options in COMMANDS:
        parser: argparse.ArgumentParser = commands.add_parser(name, help=help, parents=[common])
        if needs_id:
            parser.add_argument("-i", "--id", required=True, help="The fine-tuning job id")
        if options:
            options(parser)
        parser.set_defaults(api=run)
