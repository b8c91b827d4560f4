"""Issue 13: a 100,000-conversation chat model's knowledge: its memory, its first answer fresh and after a restart.

Each figure comes from a fresh process over the same data directory (the store holds the model's rows, as a
succeeded fine-tuning job leaves them): `fresh` has no index file yet, `restart` runs after a `fresh` one left
whatever the code keeps on disk. Memory is the process's RSS growth over the first answer (after a GC), and
the cache's own count where the code has one. Lookups time `choose` on the cached knowledge (exact, similar and
unrelated conversations). With `--baseline DIR` (a checkout of the code before the change, e.g.
`git archive e869603 | tar -x -C DIR`) both trees run over copies of the same data, alternating rounds.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if os.environ.get("BENCH_TREE"):  # a child: the code under test from that tree, this bench's helpers from here
    sys.path.insert(0, os.environ["BENCH_TREE"])
    import emulator  # noqa: F401

    sys.path.remove(os.environ["BENCH_TREE"])
sys.path.insert(0, str(ROOT))

from bench.bench_chat import KEY, MODEL, SYSTEM, lookup_specs, messages  # noqa: E402

CONVERSATIONS = 100_000
AUTH = {"Authorization": f"Bearer {KEY}"}


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def fill(data_dir: Path) -> None:
    """The store of a succeeded job's model with CONVERSATIONS conversations (no index file)."""
    from emulator import Settings, create_app
    from emulator.store import ChatExample, ModelRecord

    app = create_app(Settings(data_dir=str(data_dir), memory=False, speed="instant", seed=1))
    core = app.state.core
    organization = core.auth.organization_for(f"Bearer {KEY}", None)
    replies = ({"role": "assistant", "content": f"City{i}."} for i in range(CONVERSATIONS))
    core.store.insert_chat_examples("ftjob-bench", (ChatExample(messages(i), r) for i, r in enumerate(replies)))
    root = "gpt-4o-mini-2024-07-18"
    core.store.insert_model(ModelRecord(MODEL, organization.id, 1733000000, root, root, "ftjob-bench", "p", False))
    core.close()


def child(data_dir: Path, phase: str) -> dict[str, Any]:
    """One process's first answer (and lookups), as JSON on stdout."""
    from starlette.testclient import TestClient

    from emulator import Settings, create_app
    from emulator.inference.chat_answers import choose

    app = create_app(Settings(data_dir=str(data_dir), memory=False, speed="instant", seed=1))
    core = app.state.core
    with TestClient(app, base_url="http://test/v1", headers=AUTH) as http:
        warm = {"model": "gpt-4o-mini-2024-07-18", "messages": messages(1), "max_completion_tokens": 16}
        assert http.post("/chat/completions", json=warm).status_code == 200  # the tokenizer, loaded once
        record = core.store.get_model(core.auth.organization_for(f"Bearer {KEY}", None).id, MODEL)
        assert record is not None
        gc.collect()
        before = rss_mb()
        ahead = None
        if phase == "ahead":  # made and adopted as a job's preparation does, before the first request
            started = time.perf_counter()
            made = core.chat_models.make(core.store, record.organization_id, "ftjob-bench", record.parent, record.root)
            core.chat_models.adopt(made.name, made.index)
            ahead = time.perf_counter() - started
        body = {"model": MODEL, "messages": messages(4242), "max_completion_tokens": 16}
        started = time.perf_counter()
        response = http.post("/chat/completions", json=body)
        first = time.perf_counter() - started
        assert response.status_code == 200, response.text
        settle = getattr(core.chat_models, "settle", None)
        if settle is not None:
            settle()  # the similarity part, built in the background, then written again
        unseen = {**body, "messages": [SYSTEM, {"role": "user", "content": "Which city is the capital of Country7?"}]}
        started = time.perf_counter()
        assert http.post("/chat/completions", json=unseen).status_code == 200
        first_unseen = time.perf_counter() - started
        gc.collect()
        grown = rss_mb() - before
        try:
            knowledge = core.chat_models.cached(core.store, record)
        except TypeError:  # the code before the change: cached(record)
            knowledge = core.chat_models.cached(record)
        counted = getattr(core.chat_models, "nbytes", None)
        lookups = {}
        for kind, specs in lookup_specs(CONVERSATIONS, 997).items():
            times = []
            for spec in specs:
                started = time.perf_counter()
                choose(spec, knowledge)
                times.append(time.perf_counter() - started)
            lookups[kind] = statistics.median(times) * 1e3
        answer = response.json()["choices"][0]["message"]["content"]
    core.close()
    return {
        "first_s": first,
        "unseen_s": first_unseen,
        "rss_mb": grown,
        "counted_mb": None if counted is None else counted / 2**20,
        "lookup_ms": lookups,
        "answer": answer,
        "ahead_s": ahead,
    }


def run(tree: Path, data_dir: Path, phase: str) -> dict[str, Any]:
    environment = {**os.environ, "PYTHONPATH": str(tree), "BENCH_TREE": str(tree)}
    command = [sys.executable, str(Path(__file__).resolve()), "--child", str(data_dir), "--phase", phase]
    done = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(done.stderr)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", type=Path, help="a checkout of the code before the change")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", type=Path)
    parser.add_argument("--phase", default="fresh")
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child, args.phase)))
        return
    trees = {"this tree": ROOT} | ({"baseline": args.baseline.resolve()} if args.baseline else {})
    print(f"load average at start: {os.getloadavg()}")
    results: dict[tuple[str, str], list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        filled = Path(scratch) / "filled"
        fill(filled)
        for round_number in range(args.rounds):
            for name, tree in trees.items() if round_number % 2 == 0 else reversed(trees.items()):
                data_dir = Path(scratch) / name.replace(" ", "-")
                shutil.rmtree(data_dir, ignore_errors=True)
                shutil.copytree(filled, data_dir)
                for phase in ("fresh", "restart", *(("ahead",) if tree == ROOT else ())):
                    if phase == "ahead":
                        shutil.rmtree(data_dir / "indexes")
                    found = run(tree, data_dir, phase)
                    results.setdefault((name, phase), []).append(found)
                    print(
                        f"round {round_number + 1} {name:9} {phase:7}: first answer {found['first_s'] * 1e3:7.0f} ms"
                        f"  first unseen {found['unseen_s'] * 1e3:7.0f} ms  RSS +{found['rss_mb']:6.1f} MB"
                        f"  {found['answer']!r}"
                        + (f"  (made ahead in {found['ahead_s']:.2f} s)" if found["ahead_s"] else "")
                    )
    print(f"\nmedians over {args.rounds} rounds, {CONVERSATIONS} conversations:")
    for (name, phase), found in results.items():
        counted = [f["counted_mb"] for f in found if f["counted_mb"] is not None]
        lookups = {k: round(statistics.median(f["lookup_ms"][k] for f in found), 3) for k in found[0]["lookup_ms"]}
        print(
            f"{name:9} {phase:7}: first answer {statistics.median(f['first_s'] for f in found) * 1e3:6.0f} ms  "
            f"first unseen {statistics.median(f['unseen_s'] for f in found) * 1e3:6.0f} ms  "
            f"RSS +{statistics.median(f['rss_mb'] for f in found):6.1f} MB  "
            f"cache counts {statistics.median(counted) if counted else float('nan'):6.1f} MB  lookups ms {lookups}"
        )
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
