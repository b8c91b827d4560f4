"""`ftemu tools fine_tunes.choose_model`: each branch of the recipe against the app, and the shipped answer."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette

from client.choose_model import Trial, end_marker, recipe
from client.testing import CliResult, run_cli
from emulator.core.catalogue import BASE_MODELS, MODERN_MODELS
from emulator.testing import LiveServer
from tests.conftest import KEY, fast_settings, in_process, jsonl

COLOURS = ["red", "blue", "green", "yellow", "purple", "orange", "black", "white", "silver", "golden"]
THINGS = ["kettle", "bicycle", "umbrella", "lamp", "backpack", "toaster", "guitar", "blender", "jacket", "camera"]
GOOD = ["works perfectly and I love it", "exceeded every expectation", "is sturdy, useful and well made"]
BAD = ["broke after two days", "is a total waste of money", "arrived damaged and never worked"]
SHIPPED = "ada=0.55,babbage=0.7,curie=0.85,davinci=0.95"


def reviews(count: int, *, paraphrased: bool) -> list[dict[str, str]]:
    """A sentiment set; the paraphrase of item i has item i (same label) as its nearest training prompt."""
    rows = []
    for i, (colour, thing) in enumerate(itertools.islice(itertools.product(COLOURS, THINGS), count)):
        phrase = (GOOD if i % 2 == 0 else BAD)[i % 3]
        prompt = f"The {colour} {thing} - it {phrase}!" if paraphrased else f"{colour} {thing}: {phrase}"
        rows.append({"prompt": prompt + "\n\n###\n\n", "completion": " positive\n" if i % 2 == 0 else " negative\n"})
    return rows


def write_data(tmp_path: Path, count: int) -> tuple[Path, Path]:
    train, held = tmp_path / "train.jsonl", tmp_path / "eval.jsonl"
    train.write_bytes(jsonl(reviews(count, paraphrased=False)))
    held.write_bytes(jsonl(reviews(count, paraphrased=True)))
    return train, held


@pytest.fixture
def data(tmp_path: Path) -> tuple[Path, Path]:
    """40 examples: enough where every probability is 0 or 1."""
    return write_data(tmp_path, 40)


@pytest.fixture
def data100(tmp_path: Path) -> tuple[Path, Path]:
    """100 examples, so that the shipped probabilities show in the scores."""
    return write_data(tmp_path, 100)


def choose(make_app: Callable[..., Starlette], quality: str, *argv: str) -> CliResult:
    app = make_app(speed="instant", quality=quality)
    return run_cli(["-k", KEY, "tools", "fine_tunes.choose_model", *argv], http=in_process(app))


def picked(result: CliResult) -> tuple[list[tuple[str, float]], str]:
    assert result.code == 0, result.err
    body: dict[str, Any] = json.loads(result.out)
    return [(trial["model"], trial["score"]) for trial in body["trials"]], body["pick"]


def test_choose_model_shipped_profiles_pick_curie(
    make_app: Callable[..., Starlette], data100: tuple[Path, Path]
) -> None:
    train, held = data100
    result = choose(make_app, SHIPPED, "-t", str(train), "--eval", str(held))
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].split() == ["MODEL", "EXACT", "MATCH", "TRAINING", "COST", "TIME", "FINE-TUNED", "MODEL"]
    assert [line.split()[0] for line in lines[1:3]] == ["curie", "babbage"]
    curie, babbage = (line.split() for line in lines[1:3])
    assert float(curie[1]) >= 0.8 > float(babbage[1])
    assert (curie[2], curie[3], babbage[2], babbage[3]) == (
        f"({round(float(curie[1]) * 100)}/100)",
        "$0.02",
        f"({round(float(babbage[1]) * 100)}/100)",
        "$0.00",
    )
    assert lines[-1] == "Pick: curie (the smallest model that met the target 0.80)"
    assert "Training curie: ft-" in result.err and "Training babbage: ft-" in result.err


def test_choose_model_every_model_holds_picks_ada(make_app: Callable[..., Starlette], data: tuple[Path, Path]) -> None:
    train, held = data
    result = choose(make_app, "ada=1,babbage=1,curie=1,davinci=1", "-t", str(train), "--eval", str(held), "--json")
    assert picked(result) == ([("curie", 1.0), ("babbage", 1.0), ("ada", 1.0)], "ada")


def test_choose_model_ada_falls_short_picks_babbage(
    make_app: Callable[..., Starlette], data: tuple[Path, Path]
) -> None:
    train, held = data
    result = choose(make_app, "ada=0,babbage=1,curie=1,davinci=1", "-t", str(train), "--eval", str(held), "--json")
    trials, pick = picked(result)
    assert [model for model, _ in trials] == ["curie", "babbage", "ada"] and trials[2][1] < 0.8
    assert pick == "babbage"


def test_choose_model_curie_falls_short_moves_up_to_davinci(
    make_app: Callable[..., Starlette], data: tuple[Path, Path]
) -> None:
    train, held = data
    result = choose(make_app, "ada=1,babbage=1,curie=0,davinci=1", "-t", str(train), "--eval", str(held), "--json")
    trials, pick = picked(result)
    assert [model for model, _ in trials] == ["curie", "davinci"] and trials[0][1] < 0.8 and trials[1][1] == 1.0
    assert pick == "davinci"


def test_choose_model_nothing_meets_the_target_picks_the_best(
    make_app: Callable[..., Starlette], data100: tuple[Path, Path]
) -> None:
    train, held = data100
    result = choose(make_app, "curie=0,davinci=0.5", "-t", str(train), "--eval", str(held))
    assert result.code == 0, result.err
    scores = {line.split()[0]: float(line.split()[1]) for line in result.out.splitlines()[1:3]}
    assert list(scores) == ["curie", "davinci"] and max(scores.values()) < 0.8
    best = max(scores, key=lambda model: scores[model])
    assert result.out.splitlines()[-1] == (
        f"Pick: {best} (no model met the target; the best score, short of the target 0.80)"
    )


def test_choose_model_holdout_scores_a_share_of_the_file(make_app: Callable[..., Starlette], tmp_path: Path) -> None:
    both = tmp_path / "both.jsonl"
    both.write_bytes(jsonl(reviews(40, paraphrased=False) + reviews(40, paraphrased=True)))
    result = choose(make_app, "ada=1,babbage=1,curie=1,davinci=1", "-t", str(both), "--holdout", "0.25", "--json")
    body = json.loads(result.out)
    assert [trial["total"] for trial in body["trials"]] == [20] * len(body["trials"])
    assert "Uploaded a sample of 60 examples" in result.err


def test_choose_model_cleanup_deletes_the_trials(make_app: Callable[..., Starlette], data: tuple[Path, Path]) -> None:
    train, held = data
    app = make_app(speed="instant", quality="curie=1,babbage=0")
    argv = ["-k", KEY, "tools", "fine_tunes.choose_model", "-t", str(train), "--eval", str(held), "--cleanup"]
    assert run_cli(argv, http=in_process(app)).code == 0
    http = in_process(app)
    assert [model["id"] for model in http.get("/models").json()["data"]] == [*BASE_MODELS, *MODERN_MODELS]
    assert http.get("/files").json()["data"] == []


def test_choose_model_over_a_live_server(data: tuple[Path, Path]) -> None:
    train, held = data
    with LiveServer(fast_settings(speed="instant", quality="ada=0,babbage=1,curie=1")) as server:
        argv = ["-b", server.base_url, "-k", KEY, "tools", "fine_tunes.choose_model", "-t", str(train)]
        result = run_cli([*argv, "--eval", str(held), "--sample", "30", "--json"])
    trials, pick = picked(result)
    assert [model for model, _ in trials] == ["curie", "babbage", "ada"] and pick == "babbage"


def test_choose_model_unreadable_training_file_exits_1(make_app: Callable[..., Starlette], tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "a"}\n')
    result = choose(make_app, SHIPPED, "-t", str(bad))
    assert result == CliResult(1, "", f"Error: {bad}: line 1 is not a JSON object with a prompt and a completion\n")


def test_choose_model_holdout_out_of_range_exits_2(make_app: Callable[..., Starlette], data: tuple[Path, Path]) -> None:
    result = choose(make_app, SHIPPED, "-t", str(data[0]), "--holdout", "1.5")
    assert result.code == 2 and "--holdout and --target must be between 0 and 1" in result.err


def test_choose_model_eval_and_holdout_are_exclusive(
    make_app: Callable[..., Starlette], data: tuple[Path, Path]
) -> None:
    result = choose(make_app, SHIPPED, "-t", str(data[0]), "--eval", str(data[1]), "--holdout", "0.1")
    assert result.code == 2 and "not allowed with argument" in result.err


@pytest.mark.parametrize(
    ("scores", "tried", "pick"),
    [
        ({"curie": 0.9, "babbage": 0.9, "ada": 0.9}, ["curie", "babbage", "ada"], "ada"),
        ({"curie": 0.9, "babbage": 0.9, "ada": 0.1}, ["curie", "babbage", "ada"], "babbage"),
        ({"curie": 0.9, "babbage": 0.1}, ["curie", "babbage"], "curie"),
        ({"curie": 0.1, "davinci": 0.9}, ["curie", "davinci"], "davinci"),
        ({"curie": 0.5, "davinci": 0.3}, ["curie", "davinci"], "curie"),
        ({"curie": 0.8, "babbage": 0.79}, ["curie", "babbage"], "curie"),
    ],
)
def test_recipe_tries_models_in_the_walkthrough_order(scores: dict[str, float], tried: list[str], pick: str) -> None:
    def trial(model: str) -> Trial:
        return Trial(model, round(scores[model] * 100), 100, "$0.00", 0, f"ft-{model}", f"{model}:ft-x")

    trials, chosen = recipe(trial, 0.8)
    assert [t.model for t in trials] == tried and chosen == pick


@pytest.mark.parametrize(
    ("completions", "marker"),
    [([" positive\n", " negative\n"], "\n"), ([" a END", " bb END"], " END"), ([" x", " y"], ""), (["\n", "a\n"], "")],
)
def test_end_marker_is_the_shared_non_alphanumeric_tail(completions: list[str], marker: str) -> None:
    assert end_marker(completions) == marker


def test_choose_model_missing_training_file_exits_1(make_app: Callable[..., Starlette], tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    result = choose(make_app, SHIPPED, "-t", str(missing))
    assert result == CliResult(1, "", f"Error: [Errno 2] No such file or directory: '{missing}'\n")
