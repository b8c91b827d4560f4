"""docs/behaviours.md from the suite: every test's `behaviour` marker, grouped by module (`--write` / `--check`)."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SUITE = "conformance.suite"
HEADER = """# Behaviours checked by the conformance kit

Generated from the suite in `conformance/suite/` by `python -m conformance.behaviours --write docs/behaviours.md`
(`make docs`); a test fails when this page is out of date. `§` numbers point at the reference,
`legacy-fine-tunes.md` (`§A…` at `modern-fine-tuning.md`). "any server" tests also run against other servers
and the real API (`--real-api`); "ftemu only" tests need the `/_emulator` control plane; section "ftemu" marks
ftemu's own test-control features. Costs are what a test may spend on the real API.
"""


@dataclass(frozen=True)
class Behaviour:
    module: str
    test: str
    section: str
    text: str
    emulator_only: bool
    spend: float | None

    @property
    def runs_on(self) -> str:
        if self.emulator_only:
            return "ftemu only"
        return f"any server (≤ ${self.spend:.2f})" if self.spend else "any server"


def _marks(obj: Any) -> list[Any]:
    marks = getattr(obj, "pytestmark", [])
    return list(marks) if isinstance(marks, list) else [marks]


def _first(marks: list[Any], name: str) -> Any:
    return next((mark for mark in marks if mark.name == name), None)


def suite_modules() -> Iterator[Any]:
    package = importlib.import_module(SUITE)
    found = pkgutil.walk_packages(package.__path__, prefix=f"{SUITE}.")
    for info in sorted(found, key=lambda i: (i.name.count("."), i.name)):
        if info.name.rsplit(".", 1)[-1].startswith("test_"):
            yield importlib.import_module(info.name)


def collect() -> list[Behaviour]:
    """Every test function of the suite with its behaviour marker (None fields if it has none)."""
    found = []
    for module in suite_modules():
        module_marks = _marks(module)
        for name, function in vars(module).items():
            if not (name.startswith("test_") and callable(function)):
                continue
            marks = _marks(function) + module_marks
            documented = _first(marks, "behaviour")
            spend = _first(marks, "spend")
            found.append(
                Behaviour(
                    module=module.__name__.removeprefix(f"{SUITE}."),
                    test=name,
                    section=documented.args[0] if documented else "",
                    text=documented.args[1] if documented else "",
                    emulator_only=_first(marks, "emulator_only") is not None,
                    spend=float(spend.args[0]) if spend else None,
                )
            )
    return found


def render(behaviours: Sequence[Behaviour]) -> str:
    lines = [HEADER]
    for module in dict.fromkeys(b.module for b in behaviours):
        title = module.rsplit(".", 1)[-1].removeprefix("test_").replace("_", " ").capitalize()
        lines += [
            f"## {title} (`conformance/suite/{module.replace('.', '/')}.py`)",
            "",
            "| § | Behaviour | Test | Runs on |",
            "|---|---|---|---|",
        ]
        for b in (b for b in behaviours if b.module == module):
            text = b.text.replace("|", "\\|")
            lines.append(f"| {b.section} | {text} | `{b.test}` | {b.runs_on} |")
        lines.append("")
    lines.append(f"{len(behaviours)} behaviours.")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.behaviours", description=__doc__)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", metavar="FILE", help="Write the page to FILE.")
    group.add_argument("--check", metavar="FILE", help="Exit 1 if FILE differs from the page.")
    args = parser.parse_args(argv)
    page = render(collect())
    if args.write:
        Path(args.write).write_text(page, encoding="utf-8")
    elif args.check:
        path = Path(args.check)
        if not path.exists() or path.read_text(encoding="utf-8") != page:
            print(f"{path} is out of date: run `make docs`", file=sys.stderr)
            return 1
    else:
        sys.stdout.write(page)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
