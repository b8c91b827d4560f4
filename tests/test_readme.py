"""README.md stays true: the two commands, and a settings table equal to the code's settings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from emulator.settings import Settings, markdown_table, setting_fields
from emulator.testing import LiveServer
from tests.user_pytest import run_user_pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def _section(name: str) -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"<!-- {name}:start -->\n(.*?)<!-- {name}:end -->", text, re.S)
    assert match, f"README.md has no {name} section"
    return match.group(1)


def test_readme_settings_table_matches_the_settings() -> None:
    assert _section("settings").strip() == markdown_table()


def test_readme_settings_table_names_every_setting() -> None:
    table = _section("settings")
    for field in setting_fields():
        assert f"`FTEMU_{field.name.upper()}`" in table


def test_readme_shows_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert "make serve" in text and "make test" in text


def _python_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, re.S)


def test_readme_python_snippets_run_against_a_live_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each ```python block of the README runs as written, with the base URL of a live ftemu."""
    (tmp_path / "train.jsonl").write_text('{"prompt": "a ->", "completion": " b\\n"}\n')
    monkeypatch.chdir(tmp_path)
    blocks = _python_blocks()
    assert blocks
    with LiveServer(Settings(memory=True, speed="instant")) as server:
        for block in blocks:
            code = block.replace("http://127.0.0.1:8000/v1", server.base_url)
            exec(compile(code, "README.md", "exec"), {"__name__": "readme"})


def test_readme_pytest_example_passes(tmp_path: Path) -> None:
    """The README's pytest example runs with the installed plugin and passes."""
    example = next(block for block in _python_blocks() if "def test_" in block)
    (tmp_path / "test_readme_example.py").write_text(example)
    done = run_user_pytest(tmp_path, "-p", "no:xdist", timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
