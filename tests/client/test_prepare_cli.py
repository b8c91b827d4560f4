"""The prepare_data command line: legacy transcript, questions, errors, and the --check/--json/--tokens additions."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from client.prepare.cli import build_parser, run
from emulator.core.pricing import format_cost
from emulator.core.tokens import count_tokens
from tests.conftest import FIXTURES

DATA = FIXTURES / "prepare"
ROOT = FIXTURES.parent


def prepare(tmp_path: Path, fixture: str, *flags: str, answers: str | None = None) -> tuple[int, str, str]:
    """Run the tool in tmp_path on a copy of a fixture; quiet unless answers are given."""
    shutil.copy(DATA / fixture, tmp_path / fixture)
    argv = ["-f", fixture, *flags, *([] if answers is not None else ["-q"])]
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)
        code = run(build_parser().parse_args(argv), stdin=io.StringIO(answers or ""), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_prepare_data_valid_file_prints_the_legacy_transcript(tmp_path: Path) -> None:
    code, out, err = prepare(tmp_path, "valid.jsonl")
    assert (code, err) == (0, "")
    assert out == (
        "Analyzing...\n"
        "\n- Your file contains 12 prompt-completion pairs. In general, we recommend having at least a few hundred "
        "examples. We've found that performance tends to linearly increase for every doubling of the number of "
        "examples"
        "\n- All prompts end with suffix ` is\\n\\n###\\n\\n`"
        "\n- All prompts start with prefix `Capital of `"
        "\n- All completions end with suffix `\\n`"
        "\n\nNo remediations found.\n"
        '\nYou can use your file for fine-tuning:\n> openai api fine_tunes.create -t "valid.jsonl"\n\n'
        "After you’ve fine-tuned a model, remember that your prompt has to end with the indicator string "
        "` is\\n\\n###\\n\\n` for the model to start generating completions, rather than continuing with the prompt. "
        'Make sure to include `stop=["\\n"]` so that the generated texts ends at the expected place.\n'
        "Once your model starts training, it'll approximately take 2.61 minutes to train a `curie` model, and less "
        "for `ada` and `babbage`. Queue will approximately take half an hour per job ahead of you.\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["valid.jsonl"]


def test_prepare_data_csv_writes_prepared_jsonl(tmp_path: Path) -> None:
    code, out, _ = prepare(tmp_path, "extra_columns.csv")
    assert code == 0
    assert "- [Necessary] Remove additional columns/keys: ['id', 'notes']\n" in out
    lines = (tmp_path / "extra_columns_prepared.jsonl").read_text().splitlines()
    assert json.loads(lines[0]) == {"prompt": "Capital of Poland is\n\n###\n\n", "completion": " Warsaw\n"}


def test_prepare_data_error_goes_to_stderr_with_exit_1(tmp_path: Path) -> None:
    code, out, err = prepare(tmp_path, "missing_prompt.csv")
    assert code == 1
    assert out.endswith("every doubling of the number of examples")
    assert err == (
        "\n\nERROR in necessary_column validator: `prompt` column/key is missing. Please make sure you "
        "name your columns/keys appropriately, then retry\n\nAborting..."
    )


def test_prepare_data_answer_no_to_writing_writes_nothing(tmp_path: Path) -> None:
    code, out, _ = prepare(tmp_path, "no_separator.jsonl", answers="y\ny\nn\n")
    assert code == 0
    assert out.endswith("Proceed [Y/n]: Aborting... did not write the file\n")
    assert not (tmp_path / "no_separator_prepared.jsonl").exists()


def test_prepare_data_end_of_input_aborts_with_exit_1(tmp_path: Path) -> None:
    code, _, err = prepare(tmp_path, "no_separator.jsonl", answers="")
    assert code == 1
    assert err == "\n\nAborting... standard input ended before an answer was given\n"


def test_prepare_data_check_passes_a_prepared_file(tmp_path: Path) -> None:
    code, out, _ = prepare(tmp_path, "valid.jsonl", "--check")
    assert code == 0
    assert out.endswith("\nCheck passed: 0 necessary and 0 recommended actions; nothing was written.\n")


def test_prepare_data_check_fails_on_a_necessary_fix_and_writes_nothing(tmp_path: Path) -> None:
    code, out, _ = prepare(tmp_path, "empty_completions.jsonl", "--check")
    assert code == 3
    assert "- [Necessary] Remove 2 rows with empty completions\n" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty_completions.jsonl"]


def test_prepare_data_check_names_the_malformed_line(tmp_path: Path) -> None:
    code, _, err = prepare(tmp_path, "malformed.jsonl", "--check")
    assert code == 1
    assert "Line 3: not valid JSON" in err


def test_prepare_data_json_report_lists_findings_and_outputs(tmp_path: Path) -> None:
    code, _, _ = prepare(tmp_path, "duplicates.jsonl", "--json", "report.json")
    report = json.loads((tmp_path / "report.json").read_text())
    assert code == report["exit_code"] == 0
    assert report["examples"] == 12 and report["task_type"] == "conditional generation"
    duplicated = next(f for f in report["findings"] if f["validator"] == "duplicated_rows")
    assert duplicated["rows"] == [12, 13]
    assert report["applied"] == ["Remove 2 duplicate rows"]
    assert report["outputs"] == ["duplicates_prepared.jsonl"]


def test_prepare_data_json_report_records_an_error(tmp_path: Path) -> None:
    code, _, _ = prepare(tmp_path, "identical_prompts.jsonl", "--json", "report.json")
    report = json.loads((tmp_path / "report.json").read_text())
    assert code == report["exit_code"] == 1
    assert report["error"]["validator"] == "common_suffix"


def test_prepare_data_tokens_counts_as_the_emulator_bills(tmp_path: Path) -> None:
    code, out, _ = prepare(tmp_path, "valid.jsonl", "--tokens", "--json", "report.json")
    rows = [json.loads(line) for line in (DATA / "valid.jsonl").read_text().splitlines()]
    total = sum(count_tokens(r["prompt"]) + count_tokens(r["completion"]) for r in rows)
    tokens = json.loads((tmp_path / "report.json").read_text())["tokens"]
    assert code == 0 and tokens["total"] == total
    assert tokens["costs"]["davinci"] == format_cost(total * 4, 0.03)
    assert f"\n- Your data has {total} tokens (r50k_base, prompt + completion) in 12 examples" in out


def test_prepare_data_tokens_lists_examples_over_2048_tokens(tmp_path: Path) -> None:
    code, out, _ = prepare(tmp_path, "long_examples.jsonl", "--tokens", answers="n\n\n\n\n")
    assert code == 0
    assert "- There are 1 examples longer than 2048 tokens; fine-tuning will fail on them. These are rows: [4]" in out


def test_prepare_data_runs_as_a_module(tmp_path: Path) -> None:
    shutil.copy(DATA / "classification.tsv", tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "client.prepare", "-f", "classification.tsv", "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": ""},
    )
    assert done.returncode == 0, done.stderr
    assert "--compute_classification_metrics --classification_positive_class" in done.stdout
    assert (tmp_path / "classification_prepared_train.jsonl").exists()
    assert (tmp_path / "classification_prepared_valid.jsonl").exists()
