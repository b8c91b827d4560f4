"""README.md stays true: the two commands, and a settings table equal to the code's settings."""

from __future__ import annotations

import re
from pathlib import Path

from emulator.settings import markdown_table, setting_fields

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
