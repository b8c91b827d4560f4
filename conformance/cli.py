"""`ftemu conformance`: run the behaviour suite against any OpenAI-compatible server, report pass/fail by behaviour."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SUITE_DIR = Path(__file__).resolve().parent / "suite"


@dataclass
class Outcome:
    test: str
    section: str
    behaviour: str
    result: str = "not run"
    detail: str = ""


@dataclass
class Recorder:
    """A pytest plugin object: the behaviour of every collected test and how its run went."""

    outcomes: dict[str, Outcome] = field(default_factory=dict)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for item in session.items:
            marker = item.get_closest_marker("behaviour")
            section, text = (marker.args[0], marker.args[1]) if marker else ("", item.name)
            self.outcomes[item.nodeid] = Outcome(item.name, section, text)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        outcome = self.outcomes.get(report.nodeid)
        if outcome is None:
            return
        if report.failed:
            outcome.result = "FAIL" if report.when == "call" else "ERROR"
            outcome.detail = _first_line(report.longreprtext)
        elif report.skipped and outcome.result == "not run":
            outcome.result = "skip"
            longrepr = report.longrepr
            outcome.detail = str(longrepr[2]) if isinstance(longrepr, tuple) else ""
        elif report.passed and report.when == "call" and outcome.result == "not run":
            outcome.result = "pass"


def _first_line(text: str) -> str:
    lines = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
    return (lines[0] if lines else text.strip().splitlines()[-1] if text.strip() else "")[:200]


def render_report(target: str, outcomes: Sequence[Outcome]) -> str:
    counts = {result: sum(1 for o in outcomes if o.result == result) for result in ("pass", "FAIL", "ERROR", "skip")}
    summary = ", ".join(f"{n} {result.lower()}" for result, n in counts.items() if n)
    lines = [
        "# ftemu conformance report",
        "",
        f"Target: {target}",
        "",
        f"{len(outcomes)} behaviours: {summary}.",
        "",
        "| § | Behaviour | Result | Test | Detail |",
        "|---|---|---|---|---|",
    ]
    for o in outcomes:
        cells = [o.section, o.behaviour, o.result, f"`{o.test}`", o.detail]
        lines.append("| " + " | ".join(cell.replace("|", "\\|").replace("\n", " ") for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ftemu conformance",
        description="Run ftemu's behaviour suite against a server and report pass/fail by behaviour.",
    )
    parser.add_argument("--target-url", metavar="URL", help="Base URL of the server (default: ftemu in-process).")
    parser.add_argument("--target-api-key", metavar="KEY", help="API key (default: $OPENAI_API_KEY for a URL).")
    parser.add_argument("--real-api", action="store_true", help="The target is the real OpenAI API.")
    parser.add_argument("--allow-spend", metavar="USD", type=float, help="With --real-api: budget for paid tests.")
    parser.add_argument("--spec-dir", metavar="DIR", help="Official OpenAPI specs (default: $FTEMU_SPEC_DIR).")
    parser.add_argument("--report", metavar="FILE", help="Write the Markdown report here (default: stdout).")
    parser.add_argument("-k", metavar="EXPRESSION", dest="keyword", help="Only tests matching this expression.")
    return parser


def pytest_args(args: argparse.Namespace) -> list[str]:
    argv = [
        str(SUITE_DIR),
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:xdist",
        "--no-header",
        "-rN",
        "-W",
        "ignore::pytest.PytestAssertRewriteWarning",
    ]
    for flag, value in (
        ("--target-url", args.target_url),
        ("--target-api-key", args.target_api_key),
        ("--spec-dir", args.spec_dir),
        ("-k", args.keyword),
    ):
        if value:
            argv += [flag, value]
    if args.real_api:
        argv.append("--real-api")
    if args.allow_spend is not None:
        argv += ["--allow-spend", str(args.allow_spend)]
    return argv


def main(argv: Sequence[str] | None = None) -> int:
    """Exit status 0 when every behaviour that ran passed, 1 when one failed, pytest's code on a usage error."""
    args = build_parser().parse_args(argv)
    recorder = Recorder()
    code = int(pytest.main(pytest_args(args), plugins=[recorder]))
    from conformance.options import TargetOptions

    target = TargetOptions(
        url=args.target_url, api_key=args.target_api_key, real_api=args.real_api, allow_spend=args.allow_spend
    ).describe()
    report = render_report(target, list(recorder.outcomes.values()))
    if args.report:
        Path(args.report).write_text(report, encoding="utf-8")
    else:
        sys.stdout.write(report)
    if code in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED, pytest.ExitCode.NO_TESTS_COLLECTED):
        return 1 if any(o.result in ("FAIL", "ERROR") for o in recorder.outcomes.values()) else 0
    return code


if __name__ == "__main__":
    raise SystemExit(main())
