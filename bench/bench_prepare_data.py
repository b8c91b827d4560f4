"""prepare_data: ftemu against the legacy 0.28.1 tool (pandas) on a 100,000-row CSV, and ftemu's memory at 1M rows.

Run as a script. Each tool runs in a fresh subprocess measured by a small wrapper process, so wall time and peak
memory (RUSAGE_CHILDREN max RSS) belong to that run alone. Ratios are of figures measured in this same run.
RUSAGE_CHILDREN gives the largest single process, and ftemu forks a helper on big files, so ftemu's peak is the
sum of its own peak and its largest helper's, measured in one more run.
"""

from __future__ import annotations

import csv
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LEGACY = Path(os.environ.get("FTEMU_COMPAT_PYTHON", ROOT / ".venv-compat" / "bin" / "python"))
ROWS, BIG_ROWS, REPEATS = 100_000, 1_000_000, 3
TARGET = 10.0  # issue 5: at least 10 times faster than the legacy tool, and lower peak memory
WORDS = [
    *[
        "the",
        "a",
        "match",
        "report",
        "team",
        "score",
        "win",
        "lose",
        "game",
        "player",
        "season",
        "coach",
        "field",
        "ball",
        "goal,",
        "naïve",
    ],
    '"q"',
]
MEASURE = """
import resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(elapsed, peak, done.returncode)
sys.stderr.write(done.stderr.decode(errors="replace")[-500:])
"""


# ftemu in-process, then its own peak RSS and its largest forked helper's (parse or write), both in KiB.
PEAKS = """
import resource, sys
from client.prepare.cli import main
report = sys.argv.pop(1)
code = main()
import gc; gc.collect()  # the sharded table (and with it its child) is freed and reaped before counting
peaks = [resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
with open(report, "w") as handle:
    handle.write(" ".join(map(str, peaks)))
sys.exit(code)
"""


SHAPES = {"short": (14, 6), "long": (70, 20)}  # words per prompt and per completion (~90 or ~450 characters)


def write_csv(path: Path, rows: int, seed: int = 1, shape: str = "short") -> None:
    """Conditional generation without separators or endings: every check runs and most fixes apply."""
    rng = random.Random(seed)
    prompt_words, completion_words = SHAPES[shape]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["prompt", "completion"])
        for i in range(rows):
            prompt = " ".join(rng.choice(WORDS) for _ in range(prompt_words))
            writer.writerow([f"{prompt} {i}", " ".join(rng.choice(WORDS) for _ in range(completion_words))])


def measure(command: list[str], cwd: Path) -> tuple[float, int]:
    """(seconds, peak bytes) of one run; outputs from a previous run are removed first."""
    for old in cwd.glob("*_prepared*.jsonl"):
        old.unlink()
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, *command], cwd=cwd, capture_output=True, text=True, check=False
    )
    seconds, peak, code = done.stdout.split()
    if code != "0":
        raise SystemExit(f"{command[0]} failed ({code}): {done.stderr}")
    return float(seconds), int(peak)


def best(command: list[str], cwd: Path, repeats: int = REPEATS) -> tuple[float, int]:
    runs = [measure(command, cwd) for _ in range(repeats)]
    return min(r[0] for r in runs), max(r[1] for r in runs)


FTEMU = Path(sys.executable).with_name("ftemu")  # the installed command users run, not a lighter entry point


def ftemu(name: str) -> list[str]:
    return [str(FTEMU), "tools", "fine_tunes.prepare_data", "-f", name, "-q"]


def ftemu_peaks(name: str, cwd: Path) -> tuple[int, int]:
    """(parent, largest child) peak RSS in bytes of one ftemu run; their sum bounds the pair's peak from above
    (pages shared after a fork count in both)."""
    for old in cwd.glob("*_prepared*.jsonl"):
        old.unlink()
    report = cwd / "peaks.txt"
    subprocess.run(
        [sys.executable, "-c", PEAKS, str(report), "-f", name, "-q"], cwd=cwd, check=True, capture_output=True
    )
    parent, child = map(int, report.read_text().split())
    return parent * 1024, child * 1024


def legacy(name: str) -> list[str]:
    return [
        str(LEGACY),
        "-c",
        "import sys; from openai._openai_scripts import main; sys.exit(main())",
        "tools",
        "fine_tunes.prepare_data",
        "-f",
        name,
        "-q",
    ]


def mb(n: float) -> str:
    return f"{n / 2**20:.0f} MB"


def compare(work: Path, shape: str) -> float | None:
    """Time and peak memory of both tools on one shape; the speed ratio (None without the legacy tool)."""
    name = f"{shape}.csv"
    write_csv(work / name, ROWS, shape=shape)
    print(f"{shape} rows: {ROWS:,} rows, {mb((work / name).stat().st_size)} CSV")
    ours_s, ours_mem = best(ftemu(name), work)
    parent, child = ftemu_peaks(name, work)
    ours_mem = max(ours_mem, parent + child)
    print(f"  ftemu:  {ours_s:.2f} s, peak {mb(ours_mem)} (parent {mb(parent)} + largest child {mb(child)}, summed)")
    if not LEGACY.exists():
        print(f"  legacy: skipped ({LEGACY} missing; run `make compat-install` or set FTEMU_COMPAT_PYTHON)")
        return None
    theirs_s, theirs_mem = best(legacy(name), work)
    ratio = theirs_s / ours_s
    print(f"  legacy: {theirs_s:.2f} s, peak {mb(theirs_mem)}")
    print(
        f"  ratio:  {ratio:.1f}x faster ({'meets' if ratio >= TARGET else 'MISSES'} the {TARGET:.0f}x target), "
        f"{theirs_mem / ours_mem:.1f}x less peak memory ({'lower' if ours_mem < theirs_mem else 'NOT lower'})"
    )
    return ratio


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        os.environ["PYTHONPATH"] = str(ROOT)
        print(f"target: at least {TARGET:.0f}x faster than the legacy tool on every shape, with lower peak memory")
        ratios = {shape: compare(work, shape) for shape in SHAPES}
        measured = {shape: r for shape, r in ratios.items() if r is not None}
        if measured:
            summary = ", ".join(f"{shape} {r:.1f}x" for shape, r in measured.items())
            verdict = "met" if min(measured.values()) >= TARGET else "NOT met"
            print(f"speed ratios: {summary}; the {TARGET:.0f}x target is {verdict}")
        write_csv(work / "big.csv", BIG_ROWS, seed=2)
        big = (work / "big.csv").stat().st_size
        big_s, big_mem = best(ftemu("big.csv"), work, repeats=1)
        big_mem = max(big_mem, sum(ftemu_peaks("big.csv", work)))
        print(
            f"ftemu at {BIG_ROWS:,} short rows: {big_s:.2f} s, peak {mb(big_mem)} for a {mb(big)} file "
            f"({big_mem / big:.1f}x the file size)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
