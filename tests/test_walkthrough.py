"""The quickstart runs as written: its `sh` blocks, in order, in one shell, against a live server."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from emulator.settings import parse_settings
from emulator.testing import LiveServer

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
QUICKSTART = re.compile(r"<!-- quickstart:start -->\n(.*?)<!-- quickstart:end -->", re.S)
NOT_RUN = "<!-- walkthrough: not run"
EXPECT = re.compile(r"^<!-- expect: (.*) -->$")
MARK = "::walkthrough-block-{}::"
DOCUMENTED_URL = "http://127.0.0.1:8000/v1"


@dataclass
class Block:
    code: str
    run: bool
    expect: list[str] = field(default_factory=list)


def blocks(markdown: str) -> list[Block]:
    """Fenced `sh` blocks, whether a `not run` comment precedes them, and the `expect:` comments after them."""
    found: list[Block] = []
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if line == "```sh":
            end = lines.index("```", index + 1)
            run = not (index > 0 and lines[index - 1].startswith(NOT_RUN))
            found.append(Block("\n".join(lines[index + 1 : end]), run))
            index = end
        elif (match := EXPECT.match(line)) and found:
            found[-1].expect.append(match.group(1))
        index += 1
    return found


def quickstart() -> str:
    """The README's quickstart section, which is the seed's walkthrough with ftemu."""
    match = QUICKSTART.search(README.read_text(encoding="utf-8"))
    assert match, "README.md has no quickstart section"
    return match.group(1)


def serve_settings(found: list[Block]) -> list[str]:
    """The flags of the set-up's `ftemu serve ...` or `make serve [ARGS="..."]` line."""
    for block in found:
        for line in block.code.splitlines():
            words = shlex.split(line, comments=True)
            if words[:2] == ["ftemu", "serve"]:
                return words[2:]
            if words[:2] == ["make", "serve"]:
                extra = [word.removeprefix("ARGS=") for word in words[2:] if word.startswith("ARGS=")]
                return shlex.split(extra[0]) if extra else []
    raise AssertionError("the set-up has no `make serve` or `ftemu serve` line")


def test_walkthrough_exports_both_base_url_variables() -> None:
    """OPENAI_BASE_URL for the current SDKs next to OPENAI_API_BASE for the legacy ones, in a block that runs."""
    exports = [block for block in blocks(quickstart()) if "export OPENAI_BASE_URL=" in block.code]
    assert exports and exports[0].run
    assert f"export OPENAI_API_BASE={DOCUMENTED_URL}" in exports[0].code
    assert f"export OPENAI_BASE_URL={DOCUMENTED_URL}" in exports[0].code
    assert "OpenAI()" in exports[0].code  # the current SDK, without base_url
    assert 'pip install "openai==0.28.1"' in quickstart()


def test_walkthrough_blocks_are_found() -> None:
    found = blocks(quickstart())
    setup = [block for block in found if not block.run]
    assert setup and [block.run for block in found] == [False] * len(setup) + [True] * (len(found) - len(setup))
    assert all(block.expect for block in found if block.run)


def test_walkthrough_runs_as_written(tmp_path: Path) -> None:
    found = blocks(quickstart())
    settings = parse_settings(serve_settings(found)).replace(memory=True, port=0)
    with LiveServer(settings) as server:
        # As written: the quickstart's own `export` lines set every variable (only the port differs), and the
        # shell starts without any OPENAI_* or FTEMU_* variable of ours.
        script = "exec 2>&1\n" + "".join(
            f"printf '\\n{MARK.format(number)}\\n'\n{block.code.replace(DOCUMENTED_URL, server.base_url)}\n"
            for number, block in enumerate(found)
            if block.run
        )
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "FTEMU_"))},
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "PYTHONIOENCODING": "utf-8",
        }
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, done.stdout
    outputs = dict(
        zip(
            re.findall(r"::walkthrough-block-(\d+)::", done.stdout),
            re.split(r"::walkthrough-block-\d+::", done.stdout)[1:],
            strict=True,
        )
    )
    for number, block in enumerate(found):
        for expected in block.expect:
            assert expected in outputs[str(number)], f"block {number} lacks {expected!r}:\n{outputs[str(number)]}"
