"""README.md's test-control plane examples run as a user's pytest file (with the installed plugin) and pass."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_control_examples_pass(tmp_path: Path) -> None:
    text = README.read_text(encoding="utf-8")
    section = re.search(r"<!-- control:start -->\n(.*?)<!-- control:end -->", text, re.S)
    assert section
    blocks = re.findall(r"```python\n(.*?)```", section.group(1), re.S)
    assert len(blocks) == 3
    for number, block in enumerate(blocks):
        (tmp_path / f"test_control_example_{number}.py").write_text(block)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "6 passed" in done.stdout
