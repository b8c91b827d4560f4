"""ftemu's prepare_data against the legacy 0.28.1 tool (pandas) on a generated corpus: records, messages, exit codes."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from argparse import Namespace
from pathlib import Path
from typing import Any

import pytest

from client.prepare.cli import run
from compat.conftest import ROOT, legacy_python
from compat.prepare_corpus import Case, cases

BATCHES = 6
CORPUS = cases()
# The only figure the legacy tool derives from pandas internals (memory accounting): normalised, nothing else.
TIME_ESTIMATE = re.compile(r"it'll approximately take [0-9.]+ (seconds|minutes|hours|days)")

LEGACY_RUNNER = r"""
import contextlib, io, json, os, sys, traceback
from argparse import Namespace
from openai.cli import FineTune
real_stdout = sys.stdout
results = []
for case in json.load(sys.stdin):
    os.chdir(case["dir"])
    out, err = io.StringIO(), io.StringIO()
    sys.stdin = io.StringIO(case["answers"] or "")
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            FineTune.prepare_data(Namespace(file=case["target"], quiet=case["answers"] is None))
        except SystemExit as exc:
            code = exc.code
        except BaseException:
            traceback.print_exc()
            code = 1
    results.append({"stdout": out.getvalue(), "stderr": err.getvalue(), "code": code})
json.dump(results, real_stdout)
"""


def _outputs(directory: Path, case: Case) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.name not in case.files}


def run_legacy(batch: list[Case], root: Path) -> list[dict[str, Any]]:
    for case in batch:
        case.materialise(root / case.name)
    request = [{"dir": str(root / c.name), "target": c.target, "answers": c.answers} for c in batch]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONUTF8": "1"}
    done = subprocess.run(
        [str(legacy_python()), "-c", LEGACY_RUNNER],
        input=json.dumps(request),
        text=True,
        capture_output=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    results: list[dict[str, Any]] = json.loads(done.stdout)
    for case, result in zip(batch, results, strict=True):
        result["files"] = _outputs(root / case.name, case)
    return results


def run_ftemu(case: Case, directory: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    case.materialise(directory)
    out, err = io.StringIO(), io.StringIO()
    args = Namespace(
        file=case.target, quiet=case.answers is None, tokens=False, json=None, check=False, line_numbers=False
    )
    with monkeypatch.context() as patch:
        patch.chdir(directory)
        code = run(args, stdin=io.StringIO(case.answers or ""), stdout=out, stderr=err)
    return {"stdout": out.getvalue(), "stderr": err.getvalue(), "code": code, "files": _outputs(directory, case)}


def _records(data: bytes) -> list[object]:
    return [json.loads(line) for line in data.decode("utf-8").split("\n") if line.strip()]


def differences(legacy: dict[str, Any], ours: dict[str, Any]) -> list[str]:
    found = []
    if legacy["code"] != ours["code"]:
        found.append(f"exit code {legacy['code']} != {ours['code']}")
    for stream in ("stdout", "stderr"):
        want, got = (TIME_ESTIMATE.sub("<time>", r[stream]) for r in (legacy, ours))
        if want != got:
            found.append(f"{stream} differs:\n--- legacy\n{want}\n--- ftemu\n{got}")
    if sorted(legacy["files"]) != sorted(ours["files"]):
        found.append(f"output files {sorted(legacy['files'])} != {sorted(ours['files'])}")
    for name in sorted(set(legacy["files"]) & set(ours["files"])):
        if _records(legacy["files"][name]) != _records(ours["files"][name]):
            found.append(f"records in {name} differ")
        elif legacy["files"][name] != ours["files"][name]:
            found.append(f"bytes of {name} differ (same records)")
    return found


@pytest.mark.parametrize("batch", range(BATCHES), ids=lambda b: f"batch{b}")
def test_prepare_data_matches_legacy_tool(batch: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chosen = CORPUS[batch::BATCHES]
    legacy = run_legacy(chosen, tmp_path / "legacy")
    failures = []
    for case, expected in zip(chosen, legacy, strict=True):
        found = differences(expected, run_ftemu(case, tmp_path / "ftemu" / case.name, monkeypatch))
        if found:
            failures.append(f"[{case.name}] " + "\n".join(found))
    assert not failures, f"{len(failures)} of {len(chosen)} cases differ:\n\n" + "\n\n".join(failures)


def test_prepare_data_module_entry_point_matches_legacy_tool(tmp_path: Path) -> None:
    case = next(c for c in CORPUS if c.name == "classification-csv")
    expected = run_legacy([case], tmp_path / "legacy")[0]
    case.materialise(tmp_path / "ftemu")
    done = subprocess.run(
        [sys.executable, "-m", "client.prepare", "-f", case.target, "-q"],
        cwd=tmp_path / "ftemu",
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    ours = {
        "stdout": done.stdout,
        "stderr": done.stderr,
        "code": done.returncode,
        "files": _outputs(tmp_path / "ftemu", case),
    }
    assert differences(expected, ours) == []


READER_RUNNER = r"""
import json, os, sys
from openai.validators import read_any_format
out = {}
for name in json.load(sys.stdin):
    try:
        df, r = read_any_format(name)
    except Exception as exc:
        out[name] = {"crash": type(exc).__name__}
        continue
    if r.error_msg is not None:
        out[name] = {"error": r.error_msg}
        continue
    cols = [str(c) for c in df.columns]
    pick = lambda n: df[n].astype(str).tolist() if n in df.columns else None
    lower = lambda n: next((c for c in df.columns if str(c).lower() == n), None)
    out[name] = {"columns": cols, "rows": len(df), "immediate": r.immediate_msg, "necessary": r.necessary_msg,
                 "prompt": df[lower("prompt") if "prompt" not in df.columns else "prompt"].astype(str).tolist()
                 if lower("prompt") is not None else None,
                 "completion": df[lower("completion") if "completion" not in df.columns else "completion"]
                 .astype(str).tolist() if lower("completion") is not None else None}
json.dump(out, sys.stdout)
"""


def _ftemu_read(name: str) -> dict[str, Any]:
    from client.prepare.readers import read_any
    from client.prepare.table import PrepareError, source_column

    try:
        table = read_any(name)
    except PrepareError as exc:
        return {"error": exc.message}
    assert table.read is not None
    return {
        "columns": [str(c) for c in table.columns],
        "rows": len(table),
        "immediate": table.read.immediate,
        "necessary": table.read.necessary,
        "prompt": table.prompts if source_column(table.columns, "prompt") is not None else None,
        "completion": table.completions if source_column(table.columns, "completion") is not None else None,
    }


@pytest.mark.parametrize("seed", [1, 2])
def test_read_any_matches_legacy_reader_on_random_files(
    seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from compat.prepare_corpus import random_files

    files = random_files(seed, 300)
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONUTF8": "1"}
    done = subprocess.run(
        [str(legacy_python()), "-c", READER_RUNNER],
        input=json.dumps(list(files)),
        text=True,
        capture_output=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    legacy = json.loads(done.stdout)
    monkeypatch.chdir(tmp_path)
    failures = []
    for name in files:
        expected = legacy[name]
        if "crash" in expected:  # the legacy reader itself raised (a traceback for its users): nothing to match
            continue
        got = _ftemu_read(name)
        if got != expected:
            failures.append(f"{name} {files[name]!r}\n  legacy {expected}\n  ftemu  {got}")
    assert not failures, f"{len(failures)} of {len(files)} files read differently:\n" + "\n".join(failures[:15])
