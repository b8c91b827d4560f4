"""Issue 13: 200 concurrent clients of mixed traffic against `ftemu serve` for 30 s.

The mix: list models, files and fine-tunes, completions (base and tuned), uploads, creates, and followers (an
event stream read to [DONE], compared with the job's event list). `bench/loadgen.py` drives the non-streaming
requests on 184 keep-alive connections from its own process (uvloop, raw HTTP/1.1; it reports its CPU use) while
16 Python followers create jobs and check their streams. Figures: requests, errors, p50/p99/max of every
non-streaming request and of each kind, and whether every follower saw every event once. Targets: 0 errors,
p99 <= 300 ms.

The runs, in this order:
1. the baseline: the bare Starlette app on uvicorn[standard], `GET /v1/models` on as many connections with no
   pause between requests: what the server and the load generator alone give at saturation;
2. 200 organisations (`--keys`, one key each), how a test suite uses an emulator (every test isolated in its
   own organisation): each request acts for one of 184 organisations drawn at random, each follower has its
   own. Once as a closed loop (no pause: the server saturates, and every request waits behind the others in
   flight), once with clients that pause THINK_MS on average (0 to twice that) before each request;
3. one organisation for everyone, clients pausing as in 2: the stress case, whose unpaged lists grow by ~20
   jobs, files and models a second all run long (docs/performance.md, "How each cost grows").

`--closed-loop-only` runs only 2's closed loop (what a change to the server's cost per request moves most);
`--one-organisation` runs only 3.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.common import ROOT, bare_command, cpu_seconds, free, ftemu_serve_command, server, server_process
from bench.loadgen import CAPITALS

CLIENTS = int(os.environ.get("FTEMU_BENCH_CLIENTS", "200"))
FOLLOWERS = 16
SECONDS = float(os.environ.get("FTEMU_BENCH_SECONDS", "30"))
THINK_MS = int(os.environ.get("FTEMU_BENCH_THINK_MS", "250"))
DATA = CAPITALS


@dataclass(frozen=True)
class Tenant:
    """One organisation's key, a training file it uploaded and the model it tuned from it."""

    key: str
    file: str
    model: str


@dataclass
class Tally:
    errors: list[str] = field(default_factory=list)
    followed: int = 0
    mismatched: int = 0


def limits(clients: int) -> httpx.Limits:
    return httpx.Limits(max_connections=clients + 10, max_keepalive_connections=clients + 10)


async def prepare(http: httpx.AsyncClient, key: str) -> Tenant:
    """Upload a training file, tune a model on it and wait until it succeeded."""
    auth = {"Authorization": f"Bearer {key}"}
    upload = await http.post("/files", files={"file": ("t.jsonl", DATA)}, data={"purpose": "fine-tune"}, headers=auth)
    file_id = upload.json()["id"]
    job = (await http.post("/fine-tunes", json={"training_file": file_id}, headers=auth)).json()
    while job["status"] != "succeeded":
        await asyncio.sleep(0.05)
        job = (await http.get(f"/fine-tunes/{job['id']}", headers=auth)).json()
    return Tenant(key, file_id, job["fine_tuned_model"])


async def follow(http: httpx.AsyncClient, tally: Tally, auth: dict[str, str], job_id: str, stop: float) -> None:
    seen: list[str] = []
    url = f"/fine-tunes/{job_id}/events"
    async with http.stream("GET", url, params={"stream": "true"}, headers=auth) as stream:
        async for line in stream.aiter_lines():
            if line.startswith("data: "):
                if line == "data: [DONE]":
                    break
                event = json.loads(line[6:])
                seen.append(f"{event['created_at']} {event['message']}")
            if time.perf_counter() > stop + 5:
                return  # still training when the run ended: nothing to compare
    listed = (await http.get(url, headers=auth)).json()["data"]
    tally.followed += 1
    if seen != [f"{e['created_at']} {e['message']}" for e in listed]:
        tally.mismatched += 1


async def follower(http: httpx.AsyncClient, tally: Tally, tenant: Tenant, stop: float) -> None:
    """Create a job and follow its stream to [DONE], again and again until the run ends."""
    auth = {"Authorization": f"Bearer {tenant.key}"}
    while time.perf_counter() < stop:
        try:
            response = await http.post("/fine-tunes", json={"training_file": tenant.file}, headers=auth)
            if response.status_code != 200:
                tally.errors.append(f"create: {response.status_code} {response.text[:80]}")
                continue
            await follow(http, tally, auth, response.json()["id"], stop)
        except httpx.HTTPError as exc:
            tally.errors.append(f"follow: {type(exc).__name__}")


def loadgen_command(port: int, tenants: list[Tenant], think_ms: int, only: str | None = None) -> list[str]:
    command = [sys.executable, "-m", "bench.loadgen", "--port", str(port), "--connections", str(CLIENTS - FOLLOWERS)]
    command += ["--seconds", str(SECONDS), "--think-ms", str(think_ms)]
    command += ["--tenants", ",".join(f"{t.key} {t.file} {t.model}" for t in tenants)]
    return command + (["--only", only] if only else [])


def baseline() -> None:
    """The bare app's GET /v1/models through the same load generator: the ceiling, and the generator's own pace."""
    port = free()
    with server(bare_command(port), port, "/v1/models"):
        command = loadgen_command(port, [Tenant("sk-bench", "file-x", "model-x")], 0, "models")
        figures = json.loads(subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT).stdout)
    every = figures["all"]
    print(
        f"baseline, the bare app's GET /v1/models, {CLIENTS - FOLLOWERS} connections, no pause: "
        f"{every['requests'] / figures['seconds']:.0f} req/s, p50 {every['p50_ms']:.1f} ms, p99 {every['p99_ms']:.1f} "
        f"ms, max {every['max_ms']:.0f} ms (load generator CPU {figures['cpu_seconds'] / figures['seconds']:.0%})",
        flush=True,
    )


async def drive(
    port: int, keys: list[str], think_ms: int, served: subprocess.Popen[bytes] | None = None
) -> tuple[dict[str, Any], Tally]:
    """The load generator drives the mix for the first CLIENTS - FOLLOWERS keys; each remaining key has a follower.

    With the server's process (`served`), the figures include the CPU time it used meanwhile.
    """
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base + "/v1", timeout=60, limits=limits(FOLLOWERS + 20)) as http:
        tenants: list[Tenant] = []
        for start in range(0, len(keys), 20):
            tenants += await asyncio.gather(*(prepare(http, key) for key in keys[start : start + 20]))
        driven, following = tenants[: len(tenants) - FOLLOWERS] or tenants, tenants[-FOLLOWERS:]
        command = loadgen_command(port, driven, think_ms)
        process = await asyncio.create_subprocess_exec(*command, cwd=ROOT, stdout=asyncio.subprocess.PIPE)
        tally = Tally()
        stop = time.perf_counter() + SECONDS
        cpu_before = cpu_seconds(served) if served else None
        followers = asyncio.gather(*(follower(http, tally, tenant, stop) for tenant in following))
        output, _ = await process.communicate()
        await followers
        cpu_after = cpu_seconds(served) if served else None
    figures = json.loads(output)
    if cpu_before is not None and cpu_after is not None:
        figures["server_cpu_seconds"] = cpu_after - cpu_before
    return figures, tally


def report(label: str, figures: dict[str, Any], tally: Tally) -> None:
    every = figures["all"]
    errors = figures["errors"] + tally.errors
    print(
        f"{label}: {CLIENTS - FOLLOWERS} connections + {FOLLOWERS} Python followers, {SECONDS:.0f} s: "
        f"{every['requests']} requests ({every['requests'] / figures['seconds']:.0f} req/s), {len(errors)} errors "
        f"{sorted(set(errors))[:3]}; latency p50 {every['p50_ms']:.1f} ms, p99 {every['p99_ms']:.1f} ms, max "
        f"{every['max_ms']:.0f} ms (target p99 <= 300 ms); followers: {tally.followed} streams read to the end, "
        f"{tally.mismatched} differed from the event list (target 0); load generator CPU "
        f"{figures['cpu_seconds'] / figures['seconds']:.0%}",
        flush=True,
    )
    if "server_cpu_seconds" in figures:
        cpu = figures["server_cpu_seconds"]
        print(
            f"    server CPU {cpu / figures['seconds']:.0%} of a core: {cpu * 1000 / every['requests']:.2f} ms per "
            "request of the load generator (the followers' creates and streams included)"
        )
    for kind, seen in figures["kinds"].items():
        print(
            f"    {kind:<11} {seen['requests']:>6} requests, p50 {seen['p50_ms']:7.1f} ms, "
            f"p99 {seen['p99_ms']:7.1f} ms, max {seen['max_ms']:6.0f} ms"
        )


def one_organisation() -> None:
    """Run 3: every client in the default organisation."""
    port = free()
    with server(ftemu_serve_command(port, "--speed", "instant"), port, "/v1/models"):
        one = ["sk-bench-000000000000"] * (FOLLOWERS + 3)
        label = f"one organisation, pausing {THINK_MS} ms (its lists grow all run)"
        report(label, *asyncio.run(drive(port, one, THINK_MS)))


def main() -> None:
    parser = argparse.ArgumentParser(description="Mixed traffic against ftemu serve (issue 13).")
    parser.add_argument(
        "--closed-loop-only", action="store_true", help="only run 2's closed loop (no baseline, no pausing runs)"
    )
    parser.add_argument("--one-organisation", action="store_true", help="only run 3 (one organisation for all)")
    options = parser.parse_args()
    if options.one_organisation:
        one_organisation()
        return
    closed_loop_only = options.closed_loop_only
    if not closed_loop_only:
        baseline()
    keys = [f"sk-bench-org{number:03d}-0000000000" for number in range(CLIENTS)]
    for think_ms in (0,) if closed_loop_only else (0, THINK_MS):
        with tempfile.TemporaryDirectory() as home:
            keys_file = Path(home, "keys.json")
            keys_file.write_text(json.dumps({key: f"org{number:03d}" for number, key in enumerate(keys)}))
            port = free()
            command = ftemu_serve_command(port, "--speed", "instant", "--keys", str(keys_file))
            with server_process(command, port, "/v1/models", key=keys[0]) as (served, _):
                label = f"{CLIENTS} organisations, " + (f"pausing {think_ms} ms" if think_ms else "no pause")
                report(label, *asyncio.run(drive(port, keys, think_ms, served)))
    if closed_loop_only:
        return
    one_organisation()


if __name__ == "__main__":
    main()
