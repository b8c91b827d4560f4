"""Issue 13: 200 concurrent clients of mixed traffic against `ftemu serve` for 30 s.

The mix: list models, files and fine-tunes, completions (base and tuned), uploads, creates, and followers (an
event stream read to [DONE], compared with the job's event list). Figures: requests, errors, p50/p99 of every
non-streaming request, and whether every follower saw every event exactly once. Targets: 0 errors, p99 <= 300 ms.

Two load generators, in the same run when wrk is there:
- wrk (`bench/mixed.lua`, the same weights) drives the non-streaming requests on 184 connections while 16 Python
  followers create jobs and check their streams: the load generator is not the bottleneck;
- the all-Python client (200 asyncio clients on httpx) for comparison: on two cores it is itself the bottleneck
  (the server's own journal shows a p50 of a few ms while the clients wait about a second).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import time
from pathlib import Path

import httpx

from bench.common import AUTH, ensure_wrk, free, ftemu_serve_command, server

CLIENTS = int(os.environ.get("FTEMU_BENCH_CLIENTS", "200"))
FOLLOWERS = 16
SECONDS = float(os.environ.get("FTEMU_BENCH_SECONDS", "30"))
DATA = "".join(
    json.dumps({"prompt": f"The capital of Country{i} is\n\n###\n\n", "completion": f" City{i}\n"}) + "\n"
    for i in range(100)
).encode()


class Tally:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.by_kind: dict[str, list[float]] = {}
        self.errors: list[str] = []
        self.followed = 0
        self.mismatched = 0


async def timed(
    tally: Tally, call: asyncio.Future[httpx.Response] | object, kind: str = "other"
) -> httpx.Response | None:
    started = time.perf_counter()
    try:
        response: httpx.Response = await call  # type: ignore[misc]
    except httpx.HTTPError as exc:
        tally.errors.append(type(exc).__name__)
        return None
    tally.latencies.append(time.perf_counter() - started)
    tally.by_kind.setdefault(kind, []).append(tally.latencies[-1])
    if response.status_code != 200:
        tally.errors.append(f"{response.status_code} {response.text[:80]}")
        return None
    return response


async def follow(http: httpx.AsyncClient, tally: Tally, job_id: str, stop: float) -> None:
    seen: list[str] = []
    async with http.stream("GET", f"/fine-tunes/{job_id}/events", params={"stream": "true"}) as stream:
        async for line in stream.aiter_lines():
            if line.startswith("data: "):
                if line == "data: [DONE]":
                    break
                event = json.loads(line[6:])
                seen.append(f"{event['created_at']} {event['message']}")
            if time.perf_counter() > stop + 5:
                return  # still training when the run ended: nothing to compare
    listed = (await http.get(f"/fine-tunes/{job_id}/events")).json()["data"]
    tally.followed += 1
    if seen != [f"{e['created_at']} {e['message']}" for e in listed]:
        tally.mismatched += 1


async def client(http: httpx.AsyncClient, tally: Tally, rng: random.Random, shared: dict[str, list[str]], stop: float):
    while time.perf_counter() < stop:
        kind = rng.choices(
            ["models", "files", "fine-tunes", "completion", "tuned", "upload", "create", "follow"],
            weights=[25, 12, 12, 15, 10, 10, 8, 8],
        )[0]
        if kind in ("models", "files", "fine-tunes"):
            await timed(tally, http.get(f"/{kind}"), kind)
        elif kind == "completion":
            body = {"model": "ada", "prompt": "Hello", "max_tokens": 8}
            await timed(tally, http.post("/completions", json=body), kind)
        elif kind == "tuned":
            prompt = f"The capital of Country{rng.randrange(100)} is\n\n###\n\n"
            model = rng.choice(shared["models"])
            body = {"model": model, "prompt": prompt, "max_tokens": 4}
            await timed(tally, http.post("/completions", json=body), kind)
        elif kind == "upload":
            upload = http.post("/files", files={"file": ("t.jsonl", DATA)}, data={"purpose": "fine-tune"})
            await timed(tally, upload, kind)
        elif kind == "create":
            create = http.post("/fine-tunes", json={"training_file": rng.choice(shared["files"])})
            response = await timed(tally, create, kind)
            if response is not None:
                shared["jobs"].append(response.json()["id"])
        else:
            try:
                await follow(http, tally, rng.choice(shared["jobs"]), stop)
            except httpx.HTTPError as exc:
                tally.errors.append(f"follow: {type(exc).__name__}")


async def prepare(http: httpx.AsyncClient) -> dict[str, list[str]]:
    """Three training files and the three tuned models made from them."""
    files = [
        (await http.post("/files", files={"file": ("t.jsonl", DATA)}, data={"purpose": "fine-tune"})).json()["id"]
        for _ in range(3)
    ]
    jobs = [(await http.post("/fine-tunes", json={"training_file": f})).json()["id"] for f in files]
    models: list[str] = []
    for job_id in jobs:
        job = (await http.get(f"/fine-tunes/{job_id}")).json()
        while job["status"] != "succeeded":
            await asyncio.sleep(0.1)
            job = (await http.get(f"/fine-tunes/{job_id}")).json()
        models.append(job["fine_tuned_model"])
    return {"files": files, "jobs": jobs, "models": models}


def limits(clients: int) -> httpx.Limits:
    return httpx.Limits(max_connections=clients + 10, max_keepalive_connections=clients + 10)


async def run(base: str) -> Tally:
    async with httpx.AsyncClient(base_url=base, headers=AUTH, timeout=60, limits=limits(CLIENTS)) as http:
        shared = await prepare(http)
        tally = Tally()
        stop = time.perf_counter() + SECONDS
        await asyncio.gather(*(client(http, tally, random.Random(n), shared, stop) for n in range(CLIENTS)))
        return tally


async def follower(http: httpx.AsyncClient, tally: Tally, shared: dict[str, list[str]], stop: float) -> None:
    """Create a job and follow its stream to [DONE], again and again until the run ends."""
    rng = random.Random(len(shared["jobs"]))
    while time.perf_counter() < stop:
        response = await timed(tally, http.post("/fine-tunes", json={"training_file": rng.choice(shared["files"])}))
        if response is not None:
            try:
                await follow(http, tally, response.json()["id"], stop)
            except httpx.HTTPError as exc:
                tally.errors.append(f"follow: {type(exc).__name__}")


async def run_with_wrk(binary: str, port: int) -> tuple[dict[str, float], Tally]:
    """wrk drives the mix on CLIENTS - FOLLOWERS connections while Python followers check the streams."""
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base + "/v1", headers=AUTH, timeout=60, limits=limits(FOLLOWERS)) as http:
        shared = await prepare(http)
        environment = {
            **os.environ,
            "FTEMU_FILES": ",".join(shared["files"]),
            "FTEMU_MODELS": ",".join(shared["models"]),
        }
        command = [binary, "-t", "2", "-c", str(CLIENTS - FOLLOWERS), "-d", f"{SECONDS:.0f}s", "--timeout", "10s"]
        command += ["-s", str(Path(__file__).with_name("mixed.lua")), base]
        process = await asyncio.create_subprocess_exec(*command, env=environment, stdout=asyncio.subprocess.PIPE)
        tally = Tally()
        stop = time.perf_counter() + SECONDS
        followers = asyncio.gather(*(follower(http, tally, shared, stop) for _ in range(FOLLOWERS)))
        output, _ = await process.communicate()
        await followers
    line = next(line for line in output.decode().splitlines() if line.startswith("WRK "))
    return {key: float(value) for key, value in (item.split("=") for item in line.split()[1:])}, tally


def main() -> None:
    binary = ensure_wrk()
    if binary is not None:
        port = free()
        with server(ftemu_serve_command(port, "--speed", "instant"), port, "/v1/models"):
            figures, followed = asyncio.run(run_with_wrk(binary, port))
        errors = figures["socket_errors"] + figures["non200"] + len(followed.errors)
        print(
            f"wrk, {CLIENTS - FOLLOWERS} connections + {FOLLOWERS} Python followers, {SECONDS:.0f} s: "
            f"{figures['requests']:.0f} requests ({figures['requests'] / figures['seconds']:.0f} req/s), "
            f"{errors:.0f} errors; latency p50 {figures['p50_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms, "
            f"max {figures['max_ms']:.0f} ms (target p99 <= 300 ms); followers: {followed.followed} streams read to "
            f"the end, {followed.mismatched} differed from the event list (target 0)"
        )
    port = free()
    command = ftemu_serve_command(port, "--speed", "instant")
    with server(command, port, "/v1/models"):
        started = time.perf_counter()
        tally = asyncio.run(run(f"http://127.0.0.1:{port}/v1"))
        elapsed = time.perf_counter() - started
    print("the all-Python load generator (itself the bottleneck on two cores):")
    latencies = sorted(tally.latencies)
    p99 = latencies[int(len(latencies) * 0.99)]
    print(
        f"{CLIENTS} clients, {SECONDS:.0f} s: {len(latencies)} requests ({len(latencies) / elapsed:.0f} req/s), "
        f"{len(tally.errors)} errors {sorted(set(tally.errors))[:3]}"
    )
    print(
        f"latency p50 {statistics.median(latencies) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max "
        f"{latencies[-1] * 1000:.0f} ms (target p99 <= 300 ms); followers: {tally.followed} streams read to the "
        f"end, {tally.mismatched} differed from the event list (target 0)"
    )
    print(
        "p50 by kind: "
        + ", ".join(f"{k} {statistics.median(v) * 1000:.0f} ms" for k, v in sorted(tally.by_kind.items()))
    )


if __name__ == "__main__":
    main()
