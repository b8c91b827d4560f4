"""README.md's test-control plane examples run as a user's pytest file (with the installed plugin) and pass."""

from __future__ import annotations

import re
from pathlib import Path

from tests.user_pytest import run_user_pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_control_examples_pass(tmp_path: Path) -> None:
    text = README.read_text(encoding="utf-8")
    section = re.search(r"<!-- control:start -->\n(.*?)<!-- control:end -->", text, re.S)
    assert section
    blocks = re.findall(r"```python\n(.*?)```", section.group(1), re.S)
    assert len(blocks) == 3
    for number, block in enumerate(blocks):
        (tmp_path / f"test_control_example_{number}.py").write_text(block)
    done = run_user_pytest(tmp_path, "-p", "no:xdist")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "8 passed" in done.stdout
