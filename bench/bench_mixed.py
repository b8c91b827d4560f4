"""Issue 13: 200 concurrent clients of mixed traffic against `ftemu serve` for 30 s.

Each client loops over a weighted mix: list models, files and fine-tunes, completions (base and tuned),
uploads, creates, and followers (an event stream read to [DONE], compared with the job's event list).
Figures: requests, errors, p50/p99 of every non-streaming request, and whether every follower saw every event
exactly once. Targets: 0 errors, p99 <= 300 ms.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import time

import httpx

from bench.common import AUTH, free, ftemu_serve_command, server

CLIENTS = int(os.environ.get("FTEMU_BENCH_CLIENTS", "200"))
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


async def run(base: str) -> Tally:
    limits = httpx.Limits(max_connections=CLIENTS + 10, max_keepalive_connections=CLIENTS + 10)
    async with httpx.AsyncClient(base_url=base, headers=AUTH, timeout=60, limits=limits) as http:
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
        shared = {"files": files, "jobs": jobs, "models": models}
        tally = Tally()
        stop = time.perf_counter() + SECONDS
        await asyncio.gather(*(client(http, tally, random.Random(n), shared, stop) for n in range(CLIENTS)))
        return tally


def main() -> None:
    port = free()
    command = ftemu_serve_command(port, "--speed", "instant")
    with server(command, port, "/v1/models"):
        started = time.perf_counter()
        tally = asyncio.run(run(f"http://127.0.0.1:{port}/v1"))
        elapsed = time.perf_counter() - started
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
