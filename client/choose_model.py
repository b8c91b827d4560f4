"""`ftemu tools fine_tunes.choose_model`: the walkthrough's recipe for picking a base model by trying.

Train on a small sample with curie. If its exact-match score on held-out examples meets the target, try
babbage, and if babbage holds too, ada; if curie falls short, move up to davinci. The pick is the cheapest
model that met the target (or, when none did, the best scorer). Scores are exact matches of the tuned
model's completion (temperature 0, whitespace trimmed at both ends) against the held-out completion.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from client._client import Client
from client.cli_output import Output, table
from client.errors import FtemuError

DEFAULT_TARGET = 0.8
DEFAULT_HOLDOUT = 0.2
DEFAULT_SAMPLE = 100
CONTEXT = 2049
Example = tuple[str, str]


@dataclass(frozen=True)
class Trial:
    model: str
    correct: int
    total: int
    cost: str
    seconds: int
    fine_tune_id: str
    fine_tuned_model: str

    @property
    def score(self) -> float:
        return self.correct / self.total if self.total else 0.0


def read_examples(path: Path) -> list[Example]:
    """prompt/completion pairs of a JSONL file; anything else is a usage error."""
    examples: list[Example] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            examples.append((str(record["prompt"]), str(record["completion"])))
        except (ValueError, KeyError, TypeError):
            raise FtemuError(f"{path}: line {number} is not a JSON object with a prompt and a completion") from None
    if not examples:
        raise FtemuError(f"{path}: no examples")
    return examples


def split(examples: list[Example], holdout: float, seed: int) -> tuple[list[Example], list[Example]]:
    """A seeded shuffle, then the last `holdout` share (at least one example) is held out."""
    shuffled = list(examples)
    random.Random(seed).shuffle(shuffled)
    held = max(1, round(len(shuffled) * holdout))
    if held >= len(shuffled):
        raise FtemuError(f"--holdout {holdout} leaves no training examples out of {len(shuffled)}")
    return shuffled[:-held], shuffled[-held:]


def recipe(try_model: Callable[[str], Trial], target: float) -> tuple[list[Trial], str]:
    """curie; if it holds, babbage, then ada; if not, davinci. Returns the trials and the pick."""
    trials = [try_model("curie")]
    if trials[0].score >= target:
        for smaller in ("babbage", "ada"):
            trial = try_model(smaller)
            trials.append(trial)
            if trial.score < target:
                break
    else:
        trials.append(try_model("davinci"))
    passing = [trial for trial in trials if trial.score >= target]
    if passing:
        return trials, passing[-1].model
    return trials, max(reversed(trials), key=lambda trial: trial.score).model


def end_marker(completions: Sequence[str]) -> str:
    """The end marker every completion ends with (`\\n`, ` END`...): their common suffix, from its first
    non-alphanumeric character (so ` positive\\n` and ` negative\\n` give `\\n`, not `ve\\n`)."""
    suffix = min(completions, key=len) if completions else ""
    while suffix and not all(completion.endswith(suffix) for completion in completions):
        suffix = suffix[1:]
    while suffix and suffix[0].isalnum():
        suffix = suffix[1:]
    return suffix if all(len(completion) > len(suffix) for completion in completions) else ""


def exact_match(client: Client, model: str, examples: Sequence[Example], stop: str) -> int:
    """Held-out examples whose completion (up to the end marker, trimmed) the model reproduces exactly."""
    correct = 0
    for prompt, completion in examples:
        wanted = len(completion.encode()) + 1
        max_tokens = max(1, min(wanted, CONTEXT - len(prompt.encode())))
        answer = client.completions.create(
            model, prompt, max_tokens=max_tokens, temperature=0, stop=[stop] if stop else None
        )
        text = answer["choices"][0]["text"]
        correct += text.strip() == completion.removesuffix(stop).strip()
    return correct


def train(client: Client, model: str, file_id: str, n_epochs: int | None, log: Callable[[str], None]) -> dict[str, Any]:
    job = client.fine_tunes.create(file_id, model=model, n_epochs=n_epochs)
    log(f"Training {model}: {job['id']}")
    final: dict[str, Any] = dict(client.fine_tunes.wait(job["id"]))
    if final["status"] != "succeeded":
        last = final["events"][-1]["message"] if final.get("events") else final["status"]
        raise FtemuError(f"The {model} fine-tune {job['id']} {final['status']}: {last}")
    return final


def run_trial(
    client: Client,
    model: str,
    file_id: str,
    held_out: Sequence[Example],
    n_epochs: int | None,
    log: Callable[[str], None],
    stop: str = "",
) -> Trial:
    job = train(client, model, file_id, n_epochs, log)
    events = job["events"]
    cost = next((e["message"].rsplit(" ", 1)[-1] for e in events if e["message"].startswith("Fine-tune costs")), "-")
    correct = exact_match(client, job["fine_tuned_model"], held_out, stop)
    log(f"{model}: {correct}/{len(held_out)} exact matches with {job['fine_tuned_model']}")
    return Trial(
        model,
        correct,
        len(held_out),
        cost,
        events[-1]["created_at"] - job["created_at"],
        job["id"],
        job["fine_tuned_model"],
    )


def duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h {rest // 60:02d}m" if hours else f"{rest // 60}m {rest % 60:02d}s"


def report(trials: Sequence[Trial], pick: str, target: float) -> str:
    rows = [
        [t.model, f"{t.score:.2f} ({t.correct}/{t.total})", t.cost, duration(t.seconds), t.fine_tuned_model]
        for t in trials
    ]
    text = table(["MODEL", "EXACT MATCH", "TRAINING COST", "TIME", "FINE-TUNED MODEL"], rows)
    met = any(t.model == pick and t.score >= target for t in trials)
    why = "the smallest model that met" if met else "no model met the target; the best score, short of"
    return f"{text}\n\nPick: {pick} ({why} the target {target:.2f})"


def cleanup(client: Client, trials: Sequence[Trial], sample_file_id: str) -> None:
    """Delete the trial models, their result files and the uploaded sample."""
    for trial in trials:
        client.models.delete(trial.fine_tuned_model)
        for result in client.fine_tunes.retrieve(trial.fine_tune_id).get("result_files", []):
            client.files.delete(result["id"])
    client.files.delete(sample_file_id)


def choose_model(client: Client, args: argparse.Namespace, output: Output) -> int:
    examples = read_examples(Path(args.training_file))
    if args.eval:
        training, held_out = examples, read_examples(Path(args.eval))
    else:
        training, held_out = split(examples, args.holdout, args.seed)
    sample = random.Random(args.seed).sample(training, min(args.sample, len(training)))
    data = "".join(json.dumps({"prompt": p, "completion": c}) + "\n" for p, c in sample).encode()
    stop = args.stop if args.stop is not None else end_marker([c for _, c in [*training, *held_out]])
    uploaded = client.files.create(data, "fine-tune", filename=f"choose-model-sample-{Path(args.training_file).name}")
    output.error(f"Uploaded a sample of {len(sample)} examples: {uploaded['id']}; {len(held_out)} held out")
    trials, pick = recipe(
        lambda model: run_trial(client, model, uploaded["id"], held_out, args.n_epochs, output.error, stop),
        args.target,
    )
    if args.cleanup:
        cleanup(client, trials, uploaded["id"])
    if output.json:
        body = {"target": args.target, "pick": pick, "trials": [{**asdict(t), "score": t.score} for t in trials]}
        output.print(json.dumps(body, indent=2))
    else:
        output.print(report(trials, pick, args.target))
    return 0


def _run(args: argparse.Namespace, http: httpx.Client | None) -> int:
    output = Output(sys.stdout, sys.stderr, json=args.json)
    if not 0 < args.holdout < 1 or args.sample < 1 or not 0 <= args.target <= 1:
        output.error("ftemu: --holdout and --target must be between 0 and 1, --sample at least 1")
        return 2
    with Client(args.api_base, args.api_key, args.organization, http=http) as client:
        try:
            return choose_model(client, args, output)
        except FtemuError as exc:
            output.error(exc.line())
            return 1
        except OSError as exc:
            output.error(f"Error: {exc}")
            return 1


def add_choose_model(tools: Any) -> None:
    parser: argparse.ArgumentParser = tools.add_parser(
        "fine_tunes.choose_model",
        help="Pick a base model by trying (curie first, then smaller or larger).",
        description=__doc__,
    )
    parser.add_argument("-t", "--training_file", required=True, help="Local JSONL file of prompt-completion pairs.")
    held = parser.add_mutually_exclusive_group()
    held.add_argument("--eval", help="Local JSONL file of held-out examples (default: hold out --holdout).")
    held.add_argument(
        "--holdout",
        type=float,
        default=DEFAULT_HOLDOUT,
        help=f"Share of the training file held out for scoring (default {DEFAULT_HOLDOUT}).",
    )
    parser.add_argument(
        "--target",
        type=float,
        default=DEFAULT_TARGET,
        help=f"Exact-match score a model must reach to count as working (default {DEFAULT_TARGET}).",
    )
    parser.add_argument(
        "--sample",
        type=int,
        default=DEFAULT_SAMPLE,
        help=f"Train each trial on at most this many examples (default {DEFAULT_SAMPLE}).",
    )
    parser.add_argument("--n_epochs", type=int, help="Epochs per trial (default: the API's, 4).")
    parser.add_argument("--seed", type=int, default=0, help="Seed of the hold-out split and the sample (default 0).")
    parser.add_argument(
        "--stop", help="Stop sequence when scoring (default: the end marker all completions share, e.g. \\n)."
    )
    parser.add_argument("--cleanup", action="store_true", help="Delete the trial models and the sample file after.")
    parser.add_argument("--json", action="store_true", help="Print the trials and the pick as JSON.")
    parser.set_defaults(tool=_run)
