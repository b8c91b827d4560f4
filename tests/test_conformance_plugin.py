"""The pytest plugin: a light import, its options and header, real-API skipping and the spending budget."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.plugin import Budget

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("httpx", "httpx2", "fastapi", "starlette", "emulator", "yaml", "jsonschema", "openai", "uvicorn")


def run_pytest(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_plugin_import_is_light() -> None:
    code = f"import sys, conformance.plugin; print([m for m in {HEAVY!r} if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_budget_charges_until_the_limit() -> None:
    budget = Budget(0.05)
    assert budget.charge(0.02) is None and budget.charge(0.03) is None
    assert "would exceed the --allow-spend budget ($0.05 of $0.05 committed)" in str(budget.charge(0.01))
    assert "pass --allow-spend USD" in str(Budget(None).charge(0.01))


def test_options_are_in_one_group() -> None:
    result = run_pytest("--help")
    group = result.stdout.split("ftemu conformance kit:", 1)[1]
    for option in (
        "--target-url",
        "--target-api-key",
        "--target-server",
        "--real-api",
        "--allow-spend",
        "--spec-dir",
        "--target-timeout",
    ):
        assert option in group.split("\n\n")[0]


def test_real_api_skips_emulator_only_and_paid_tests() -> None:
    result = run_pytest(
        "--pyargs",
        "conformance",
        "--real-api",
        "-rs",
        "-k",
        "test_fine_tune_fails or test_create_fine_tune_echoes_hyperparams",
    )
    assert result.returncode == 0, result.stdout
    assert "2 skipped" in result.stdout
    assert "emulator-only: the real API has no /_emulator control plane" in result.stdout
    assert "costs about $0.01 on the real API; pass --allow-spend USD to run it" in result.stdout
    header = "ftemu conformance target: the real OpenAI API at https://api.openai.com/v1 (no spending allowed)"
    assert header in result.stdout


def test_marker_settings_give_their_own_server(tmp_path: Path) -> None:
    test_file = tmp_path / "test_markers.py"
    test_file.write_text(
        "import pytest\n\n"
        "def test_default(ftemu):\n"
        "    assert ftemu.http.get(ftemu.instance.control_url('/clock')).json()['speed'] == 'instant'\n\n"
        "@pytest.mark.ftemu(speed='60', seed=3)\n"
        "def test_marked(ftemu, ftemu_server):\n"
        "    clock = ftemu.http.get(ftemu.instance.control_url('/clock')).json()\n"
        "    assert (clock['kind'], clock['speed']) == ('manual', '60')\n"
        "    assert ftemu.base_url != ftemu_server and ftemu_server.endswith('/v1')\n",
        encoding="utf-8",
    )
    for mode, target in (([], "ftemu in-process"), (["--target-server"], "ftemu over a socket")):
        result = run_pytest(str(test_file), *mode)
        assert result.returncode == 0 and "2 passed" in result.stdout, result.stdout
        assert f"ftemu conformance target: {target}" in result.stdout


def test_find_spec_missing_environment_directory_is_a_notice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """FTEMU_SPEC_DIR is a default (the Makefile's ../shared path): a directory without the spec turns the check off."""
    from conformance.schema import SPEC_FILE, find_spec, spec_notice

    missing = tmp_path / "no-such-dir"
    monkeypatch.setenv("FTEMU_SPEC_DIR", str(missing))
    assert find_spec(None) is None
    assert spec_notice(None) == (
        f"SKIPPED: FTEMU_SPEC_DIR={missing} has no {SPEC_FILE}; responses are not checked against the spec"
    )
    with pytest.raises(FileNotFoundError, match="from --spec-dir"):
        find_spec(str(missing))


def _kit_without_spec(missing: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The kit as `make conformance` runs it on a clone whose FTEMU_SPEC_DIR names a missing directory."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "--pyargs", "conformance", *args],
        cwd=missing.parent.parent.parent,
        env={**os.environ, "FTEMU_SPEC_DIR": str(missing)},
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def test_conformance_suite_passes_without_a_spec_directory(tmp_path: Path) -> None:
    """A clone with nothing beside it: `make conformance` passes, and says the schema check is skipped."""
    missing = tmp_path / "shared" / "reference" / "openapi"
    result = _kit_without_spec(missing, "-q")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert f"ftemu conformance schema check SKIPPED: FTEMU_SPEC_DIR={missing} has no" in result.stdout
    assert " passed" in result.stdout and "error" not in result.stdout.splitlines()[-1]
    header = _kit_without_spec(missing, "--collect-only").stdout
    assert f"schema check: SKIPPED: FTEMU_SPEC_DIR={missing} has no" in header
