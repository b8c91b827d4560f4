"""The kit's documentation stays true: behaviours.md matches the suite, the README example runs as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.behaviours import collect, render

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "docs" / "examples" / "test_my_pipeline.py"


def test_behaviours_page_is_up_to_date() -> None:
    page = (ROOT / "docs" / "behaviours.md").read_text(encoding="utf-8")
    assert page == render(collect()), "docs/behaviours.md is out of date: run `make docs`"


def test_every_suite_test_names_its_behaviour() -> None:
    behaviours = collect()
    assert len(behaviours) > 50
    for behaviour in behaviours:
        assert re.fullmatch(r"ftemu|§A?\d+(\.\d+)?(, §A?\d+(\.\d+)?)*", behaviour.section), behaviour.test
        assert behaviour.text, behaviour.test
        assert behaviour.test.startswith("test_")


def test_bad_input_table_has_at_least_sixty_distinct_rows() -> None:
    from conformance.suite.test_bad_input import ROWS

    assert len(ROWS) >= 60 and len({row.name for row in ROWS}) == len(ROWS)
    assert {row.path.split("/")[1] for row in ROWS} >= {"completions", "fine-tunes", "files", "models", "clock"}


def test_behaviours_check_fails_on_a_stale_page(tmp_path: Path) -> None:
    stale = tmp_path / "behaviours.md"
    stale.write_text("# old\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "conformance.behaviours", "--check", str(stale)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1 and "out of date" in result.stderr


def test_conformance_page_shows_the_example_file_verbatim() -> None:
    page = (ROOT / "docs" / "conformance.md").read_text(encoding="utf-8")
    block = page.split("```python\n", 1)[1].split("```", 1)[0]
    assert block == EXAMPLE.read_text(encoding="utf-8")


@pytest.mark.parametrize("mode", [[], ["--target-server"]], ids=["in-process", "server"])
def test_example_test_file_passes(mode: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", str(EXAMPLE), *mode],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout
