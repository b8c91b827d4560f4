"""Issue 13: nearest-prompt lookups in-process (no server, no job): median and p90 at 10,000 and 100,000 examples.

The index is built from the same synthetic set `bench_big_job` trains on (prompts from a small vocabulary, so
every trigram is common: the worst case for pruning), and queried with training prompts that have one word
changed, as `bench_big_job` does. Rounds of queries are timed through `NearestIndex.nearest` and, alternating, through
the full scan (the baseline, measured in the same run); the two must agree on every answer.
"""

from __future__ import annotations

import json
import math
import os
import random
import statistics
import time

from bench.data import training_jsonl
from emulator.inference.nearest import NearestIndex, trigrams

SIZES = [int(size) for size in os.environ.get("FTEMU_BENCH_SIZES", "10000,100000").split(",")]
QUERIES = int(os.environ.get("FTEMU_BENCH_QUERIES", "200"))
ROUND = 25  # queries a round: a round of lookups, then a round of full scans


def queries(index: NearestIndex, count: int) -> list[str]:
    """Training prompts with one word changed (the same recipe as bench_big_job's lookups)."""
    rng = random.Random(5)
    changed = []
    for _ in range(count):
        words = index.examples[rng.randrange(len(index))][0].split()
        words[rng.randrange(len(words))] = "zebra"
        changed.append(" ".join(words))
    return changed


def full_scan(index: NearestIndex, prompt: str) -> tuple[int, float]:
    """The baseline: every example scored (what a lookup falls back to when pruning cannot decide)."""
    postings = index.postings
    grams = trigrams(index.key(prompt))
    query_norm = math.sqrt(sum(postings.weight(g) for g in grams)) or 1.0
    found = [(p, postings.weights[p]) for p in map(postings.find, grams) if p is not None]
    best, ratio = postings._scan(found)
    return best, ratio / query_norm


def quantiles(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.9)] * 1000


def measure(size: int) -> None:
    lines = training_jsonl(size).splitlines()
    examples = [(row["prompt"], row["completion"]) for row in map(json.loads, lines)]
    started = time.perf_counter()
    index = NearestIndex(examples)
    _ = index.postings
    built = time.perf_counter() - started
    lookup, scan, differ = [], [], 0
    changed = queries(index, QUERIES)
    for start in range(0, len(changed), ROUND):  # alternating rounds: lookups, then the full scan of the same
        matches = []
        for prompt in changed[start : start + ROUND]:
            started = time.perf_counter()
            matches.append(index.nearest(prompt))
            lookup.append(time.perf_counter() - started)
        for prompt, match in zip(changed[start : start + ROUND], matches, strict=True):
            started = time.perf_counter()
            expected = full_scan(index, prompt)
            scan.append(time.perf_counter() - started)
            assert match is not None
            differ += (match.index, match.score) != expected
    (median, p90), (scan_median, scan_p90) = quantiles(lookup), quantiles(scan)
    print(
        f"{size} examples: index {index.nbytes / 1e6:.1f} MB, built in {built:.2f} s; nearest (one word changed, "
        f"{QUERIES} queries) median {median:.3f} ms, p90 {p90:.3f} ms (target < 1 ms); full scan median "
        f"{scan_median:.2f} ms, p90 {scan_p90:.2f} ms: {scan_median / median:.0f}x the median; "
        f"answers differing from the full scan: {differ}"
    )


def main() -> None:
    print(f"load average {os.getloadavg()[0]:.2f}")
    for size in SIZES:
        measure(size)


if __name__ == "__main__":
    main()
