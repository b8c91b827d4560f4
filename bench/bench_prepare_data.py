"""prepare_data: ftemu against the legacy 0.28.1 tool (pandas) on a 100,000-row CSV, and ftemu's memory at 1M rows.

Run as a script. Each tool runs in a fresh subprocess measured by a small wrapper process, so wall time and peak
memory (RUSAGE_CHILDREN max RSS) belong to that run alone; both tools are one process. Ratios are of figures
measured in this same run.
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
TARGET = 8.0  # issue 12: at least 8 times faster than the legacy tool,
MEMORY_TARGET = 2.0  # with at most half its peak memory
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
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, done.returncode)
sys.stderr.write(done.stderr.decode(errors="replace")[-500:])
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


def measure(command: list[str], cwd: Path) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, peak bytes) of one run; outputs from a previous run are removed first."""
    for old in cwd.glob("*_prepared*.jsonl"):
        old.unlink()
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, *command], cwd=cwd, capture_output=True, text=True, check=False
    )
    seconds, cpu, peak, code = done.stdout.split()
    if code != "0":
        raise SystemExit(f"{command[0]} failed ({code}): {done.stderr}")
    return float(seconds), float(cpu), int(peak)


def best(command: list[str], cwd: Path, repeats: int = REPEATS) -> tuple[float, float, int]:
    """The least wall and CPU time and the largest peak of `repeats` runs (CPU time, user + system, is what
    varies least when other work shares the machine)."""
    runs = [measure(command, cwd) for _ in range(repeats)]
    return min(r[0] for r in runs), min(r[1] for r in runs), max(r[2] for r in runs)


FTEMU = Path(sys.executable).with_name("ftemu")  # the installed command users run, not a lighter entry point


def ftemu(name: str) -> list[str]:
    return [str(FTEMU), "tools", "fine_tunes.prepare_data", "-f", name, "-q"]


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


def compare(work: Path, shape: str) -> tuple[float, float] | None:
    """Time and peak memory of both tools on one shape; the speed and memory ratios (None without the legacy tool)."""
    name = f"{shape}.csv"
    write_csv(work / name, ROWS, shape=shape)
    print(f"{shape} rows: {ROWS:,} rows, {mb((work / name).stat().st_size)} CSV")
    ours_s, ours_cpu, ours_mem = best(ftemu(name), work)
    print(f"  ftemu:  {ours_s:.2f} s ({ours_cpu:.2f} s CPU), peak {mb(ours_mem)}")
    if not LEGACY.exists():
        print(f"  legacy: skipped ({LEGACY} missing; run `make compat-install` or set FTEMU_COMPAT_PYTHON)")
        return None
    theirs_s, theirs_cpu, theirs_mem = best(legacy(name), work)
    ratio, memory = theirs_s / ours_s, theirs_mem / ours_mem
    print(f"  legacy: {theirs_s:.2f} s ({theirs_cpu:.2f} s CPU), peak {mb(theirs_mem)}")
    print(
        f"  ratio:  {ratio:.1f}x faster ({'meets' if ratio >= TARGET else 'MISSES'} the {TARGET:.0f}x target; "
        f"{theirs_cpu / ours_cpu:.1f}x less CPU), "
        f"{memory:.1f}x less peak memory ({'meets' if memory >= MEMORY_TARGET else 'MISSES'} the "
        f"{MEMORY_TARGET:.0f}x target)"
    )
    return ratio, memory


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        os.environ["PYTHONPATH"] = str(ROOT)
        print(
            f"target: at least {TARGET:.0f}x faster than the legacy tool on every shape, "
            f"with at most 1/{MEMORY_TARGET:.0f} of its peak memory"
        )
        ratios = {shape: compare(work, shape) for shape in SHAPES}
        measured = {shape: r for shape, r in ratios.items() if r is not None}
        if measured:
            summary = ", ".join(f"{shape} {r:.1f}x faster, {m:.1f}x less memory" for shape, (r, m) in measured.items())
            met = all(r >= TARGET and m >= MEMORY_TARGET for r, m in measured.values())
            print(f"ratios: {summary}; the targets are {'met' if met else 'NOT met'}")
        write_csv(work / "big.csv", BIG_ROWS, seed=2)
        big = (work / "big.csv").stat().st_size
        big_s, _, big_mem = best(ftemu("big.csv"), work, repeats=1)
        print(
            f"ftemu at {BIG_ROWS:,} short rows: {big_s:.2f} s, peak {mb(big_mem)} for a {mb(big)} file "
            f"({big_mem / big:.1f}x the file size)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
