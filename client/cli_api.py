"""`ftemu api ...`: the legacy CLI's commands, one to one (names, flags, outputs), readable or --json."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from client._client import Client
from client.cli_create import get_or_upload, upload
from client.cli_fine_tuning import add_fine_tuning_commands
from client.cli_follow import follow
from client.cli_output import Output
from client.errors import FtemuError

Command = Callable[[Client, argparse.Namespace, Output], int]

FILE_HELP = (
    "This can be the ID of a file uploaded through the API (e.g. file-abcde12345), a local file path, "
    'or a URL that starts with "http".'
)


class UsageError(FtemuError):
    """A combination of flags the command cannot run (exit 2)."""


def _show(value: Any, output: Output) -> int:
    output.show(value)
    return 0


def files_create(client: Client, args: argparse.Namespace, output: Output) -> int:
    return _show(upload(client, Path(args.file), args.file, args.purpose, output), output)


def fine_tunes_create(client: Client, args: argparse.Namespace, output: Output) -> int:
    check = not args.no_check_if_files_exist
    training = get_or_upload(client, args.training_file, output, check_duplicates=check)
    validation = (
        get_or_upload(client, args.validation_file, output, check_duplicates=check) if args.validation_file else None
    )
    job = client.fine_tunes.create(
        training,
        validation_file=validation,
        model=args.model,
        suffix=args.suffix,
        n_epochs=args.n_epochs,
        batch_size=args.batch_size,
        learning_rate_multiplier=args.learning_rate_multiplier,
        prompt_loss_weight=args.prompt_loss_weight,
        compute_classification_metrics=args.compute_classification_metrics,
        classification_n_classes=args.classification_n_classes,
        classification_positive_class=args.classification_positive_class,
        classification_betas=args.classification_betas,
    )
    if args.no_follow:
        return _show(job, output)
    if not output.json:
        output.print(
            f"Created fine-tune: {job['id']}\nStreaming events until fine-tuning is complete...\n\n"
            "(Ctrl-C will interrupt the stream, but not cancel the fine-tune)"
        )
    return follow(client, job["id"], output, args.prefix)


def fine_tunes_events(client: Client, args: argparse.Namespace, output: Output) -> int:
    if args.stream:
        raise FtemuError(
            "The --stream parameter is deprecated, use fine_tunes.follow instead:\n\n"
            f"  {args.prefix} fine_tunes.follow -i {args.id}\n"
        )
    return _show(client.fine_tunes.list_events(args.id), output)


def fine_tunes_results(client: Client, args: argparse.Namespace, output: Output) -> int:
    results = client.fine_tunes.retrieve(args.id).get("result_files") or []
    if not results:
        raise FtemuError(f"No results file available for fine-tune {args.id}")
    output.print(client.files.content(results[0]["id"]).decode("utf-8"))
    return 0


def completions_create(client: Client, args: argparse.Namespace, output: Output) -> int:
    if args.n is not None and args.n > 1 and args.stream:
        raise UsageError("Can't stream completions with n>1 with the current CLI")
    params: dict[str, Any] = {
        "max_tokens": args.max_tokens,
        "temperature": args.temperature,
        "top_p": args.top_p,
        "n": args.n,
        "logprobs": args.logprobs,
        "stop": args.stop,
        "echo": True,
    }
    if args.stream:
        text = ""
        for chunk in client.completions.create(args.model, args.prompt, engine=args.engine, stream=True, **params):
            piece = "".join(choice["text"] for choice in sorted(chunk["choices"], key=lambda c: c["index"]))
            text += piece
            output.print(json.dumps(chunk) if output.json else piece, end="\n" if output.json else "")
        if not output.json and not text.endswith("\n"):
            output.print()
        return 0
    completion = client.completions.create(args.model, args.prompt, engine=args.engine, **params)
    if output.json:
        return _show(completion, output)
    choices = sorted(completion["choices"], key=lambda c: c["index"])
    if len(choices) == 1:
        text = choices[0]["text"]
    else:
        text = "".join(f"===== Completion {c['index']} =====\n{c['text']}\n" for c in choices)
    output.print(text, end="" if text.endswith("\n") else "\n")
    return 0


def chat_completions_create(client: Client, args: argparse.Namespace, output: Output) -> int:
    """As the 1.x CLI: each choice's content, under a header when there are several; streams print deltas."""
    messages = [{"role": role, "content": content} for role, content in args.message]
    params: dict[str, Any] = {"n": args.n, "temperature": args.temperature, "top_p": args.top_p, "stop": args.stop}
    params["max_tokens"] = args.max_tokens
    if args.stream:
        for chunk in client.chat.completions.create(args.model, messages, stream=True, **params):
            choices = chunk.get("choices") or []
            for choice in choices:
                if output.json:
                    continue
                header = f"===== Chat Completion {choice['index']} =====\n" if len(choices) > 1 else ""
                output.print(header + (choice.get("delta", {}).get("content") or ""), end="\n" if header else "")
            if output.json:
                output.print(json.dumps(chunk))
        if not output.json:
            output.print()
        return 0
    completion = client.chat.completions.create(args.model, messages, **params)
    if output.json:
        return _show(completion, output)
    choices = completion["choices"]
    for choice in choices:
        content = choice["message"].get("content")
        text = content if content is not None else "None"
        header = f"===== Chat Completion {choice['index']} =====\n" if len(choices) > 1 else ""
        output.print(header + text, end="\n" if header or not text.endswith("\n") else "")
    return 0


def _by_id(method: Callable[[Any, str], Any], namespace: str) -> Command:
    def run(client: Client, args: argparse.Namespace, output: Output) -> int:
        return _show(method(getattr(client, namespace), args.id), output)

    return run


def _listing(namespace: str) -> Command:
    def run(client: Client, args: argparse.Namespace, output: Output) -> int:
        return _show(getattr(client, namespace).list(), output)

    return run


def _follow(client: Client, args: argparse.Namespace, output: Output) -> int:
    return follow(client, args.id, output, args.prefix)


def _add(
    commands: Any,
    name: str,
    run: Command,
    help: str,
    common: argparse.ArgumentParser,
    *,
    needs_id: bool = False,
    id_help: str = "The id",
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(name, help=help, parents=[common])
    if needs_id:
        parser.add_argument("-i", "--id", required=True, help=id_help)
    parser.set_defaults(api=run)
    return parser


def _fine_tunes_create_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-t", "--training_file", required=True, help="JSONL file of prompt-completion pairs. " + FILE_HELP)
    p.add_argument("-v", "--validation_file", help="JSONL file to compute validation metrics. " + FILE_HELP)
    p.add_argument(
        "--no_check_if_files_exist",
        action="store_true",
        help="Upload local files even if an identical-looking file was uploaded before.",
    )
    p.add_argument("-m", "--model", help="The model to start from (ada, babbage, curie, davinci or a tuned one).")
    p.add_argument("--suffix", help="Up to 40 characters added to the fine-tuned model name.")
    p.add_argument("--no_follow", action="store_true", help="Print the job and return; do not stream events.")
    p.add_argument("--n_epochs", type=int, help="Epochs to train for (default 4).")
    p.add_argument("--batch_size", type=int, help="Batch size (default ~0.2%% of the examples, at most 256).")
    p.add_argument("--learning_rate_multiplier", type=float, help="Learning rate multiplier.")
    p.add_argument("--prompt_loss_weight", type=float, help="Weight of the prompt tokens' loss (default 0.01).")
    p.add_argument(
        "--compute_classification_metrics",
        action="store_true",
        default=None,
        help="Compute classification metrics on the validation set.",
    )
    p.add_argument("--classification_n_classes", type=int, help="Number of classes (multiclass).")
    p.add_argument("--classification_positive_class", help="The positive class (binary).")
    p.add_argument("--classification_betas", type=float, nargs="+", help="F-beta scores at these betas.")


def _completions_create_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-e", "--engine", help="The engine to use (sends POST /engines/{engine}/completions).")
    p.add_argument("-m", "--model", help="The model to use.")
    p.add_argument("--stream", action="store_true", help="Print the text as it arrives.")
    p.add_argument("-p", "--prompt", help="The prompt.")
    p.add_argument("-M", "--max-tokens", dest="max_tokens", type=int, help="Tokens to generate.")
    p.add_argument("-t", "--temperature", type=float, help="Sampling temperature.")
    p.add_argument("-P", "--top_p", type=float, help="Nucleus sampling mass.")
    p.add_argument("-n", "--n", type=int, help="How many completions to generate.")
    p.add_argument("--logprobs", type=int, help="Include the log probabilities of this many top tokens.")
    p.add_argument("--stop", help="A stop sequence.")


def _chat_completions_create_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-g",
        "--message",
        action="append",
        nargs=2,
        metavar=("ROLE", "CONTENT"),
        required=True,
        help="A message in `{role} {content}` format. Use this argument multiple times to add multiple messages.",
    )
    p.add_argument("-m", "--model", required=True, help="The model to use.")
    p.add_argument("-n", "--n", type=int, help="How many completions to generate for the conversation.")
    p.add_argument("-M", "--max-tokens", dest="max_tokens", type=int, help="The maximum number of tokens to generate.")
    p.add_argument("-t", "--temperature", type=float, help="Sampling temperature.")
    p.add_argument("-P", "--top_p", type=float, help="Nucleus sampling mass.")
    p.add_argument("--stop", help="A stop sequence at which to stop generating tokens for the message.")
    p.add_argument("--stream", action="store_true", help="Stream messages as they're ready.")


_ID_HELP = {"files": "The file id", "fine_tunes": "The fine-tune job id", "models": "The model id"}
_METHODS = {"get": "retrieve", "delete": "delete", "cancel": "cancel"}


def _simple(name: str) -> Command:
    """`X.list` lists; `X.get`, `X.delete` and `X.cancel` call the namespace's method with the id."""
    namespace, verb = name.split(".")
    if verb == "list":
        return _listing(namespace)
    method = _METHODS[verb]
    return _by_id(lambda ns, i: getattr(ns, method)(i), namespace)


# (command, run, help, takes -i/--id) in the legacy CLI's order; None: a simple command built by _simple.
_COMMANDS: list[tuple[str, Command | None, str, bool]] = [
    ("files.create", files_create, "Upload a file", False),
    ("files.get", None, "Show a file", True),
    ("files.delete", None, "Delete a file", True),
    ("files.list", None, "List files", False),
    ("fine_tunes.list", None, "List fine-tune jobs", False),
    ("fine_tunes.create", fine_tunes_create, "Create a fine-tune job (and follow it)", False),
    ("fine_tunes.get", None, "Show a fine-tune job", True),
    ("fine_tunes.results", fine_tunes_results, "Print a job's results (CSV)", True),
    ("fine_tunes.events", fine_tunes_events, "List a job's events", True),
    ("fine_tunes.follow", _follow, "Stream a job's events until it is over", True),
    ("fine_tunes.cancel", None, "Cancel a job", True),
    ("models.list", None, "List models", False),
    ("models.get", None, "Show a model", True),
    ("models.delete", None, "Delete a fine-tuned model", True),
    ("completions.create", completions_create, "Complete a prompt (prints prompt + text)", False),
    ("chat.completions.create", chat_completions_create, "Answer a conversation (prints each choice)", False),
]


def add_api_commands(api: argparse.ArgumentParser) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="Print the raw API objects as JSON.")
    commands = api.add_subparsers(title="commands", metavar="COMMAND")
    for name, run, help, needs_id in _COMMANDS:
        id_help = _ID_HELP.get(name.split(".")[0], "The id")
        parser = _add(commands, name, run or _simple(name), help, common, needs_id=needs_id, id_help=id_help)
        _OPTIONS.get(name, _no_options)(parser)
    add_fine_tuning_commands(commands, common)


def _no_options(parser: argparse.ArgumentParser) -> None:
    return None


def _files_create_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-f", "--file", required=True, help="The file to upload.")
    parser.add_argument("-p", "--purpose", required=True, help="Why the file is uploaded (fine-tune).")


def _events_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-s", "--stream", action="store_true", help="Deprecated: use fine_tunes.follow.")


_OPTIONS: dict[str, Callable[[argparse.ArgumentParser], None]] = {
    "files.create": _files_create_options,
    "fine_tunes.create": _fine_tunes_create_options,
    "fine_tunes.events": _events_options,
    "completions.create": _completions_create_options,
    "chat.completions.create": _chat_completions_create_options,
}
