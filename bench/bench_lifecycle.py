"""Issue 3: the whole lifecycle with --speed instant (in-process and over HTTP), and 200 concurrent followers."""

from __future__ import annotations

import asyncio
import json
import statistics
import time

import httpx

from bench.common import AUTH, bare_command, free, ftemu_command, server
from emulator import Settings, create_app

DATA = "".join(
    json.dumps({"prompt": f"The capital of Country{i} is\n\n###\n\n", "completion": f" City{i}\n"}) + "\n"
    for i in range(100)
).encode()


async def lifecycle(http: httpx.AsyncClient) -> None:
    """Upload 100 examples, create a fine-tune, read it until it has succeeded."""
    file_id = (await http.post("/files", files={"file": ("train.jsonl", DATA)}, data={"purpose": "fine-tune"})).json()[
        "id"
    ]
    job = (await http.post("/fine-tunes", json={"training_file": file_id, "model": "curie"})).json()
    while job["status"] != "succeeded":
        job = (await http.get(f"/fine-tunes/{job['id']}")).json()


async def timed(http: httpx.AsyncClient, runs: int) -> float:
    await lifecycle(http)
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await lifecycle(http)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


async def round_trip(http: httpx.AsyncClient, path: str, runs: int = 200) -> float:
    started = time.perf_counter()
    for _ in range(runs):
        (await http.get(path)).raise_for_status()
    return (time.perf_counter() - started) / runs


async def in_process() -> tuple[float, float]:
    app = create_app(Settings(memory=True, speed="instant"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ftemu/v1", headers=AUTH) as http:
        return await timed(http, 20), await round_trip(http, "/models")


async def over_http(base: str) -> float:
    async with httpx.AsyncClient(base_url=base, headers=AUTH, timeout=30) as http:
        return await timed(http, 10)


async def followers(root: str, count: int) -> tuple[int, int, float]:
    """`count` clients follow one job's event stream while the manual clock moves it to the end."""
    limits = httpx.Limits(max_connections=count + 10)
    async with httpx.AsyncClient(base_url=root + "/v1", headers=AUTH, timeout=60, limits=limits) as http:
        file_id = (await http.post("/files", files={"file": ("t.jsonl", DATA)}, data={"purpose": "fine-tune"})).json()[
            "id"
        ]
        job_id = (await http.post("/fine-tunes", json={"training_file": file_id, "model": "ada"})).json()["id"]

        async def follow() -> list[str]:
            lines = []
            async with http.stream("GET", f"/fine-tunes/{job_id}/events?stream=true") as response:
                assert response.status_code == 200
                async for line in response.aiter_lines():
                    if line.startswith("data: "):
                        lines.append(line[6:])
            return lines

        tasks = [asyncio.create_task(follow()) for _ in range(count)]
        await asyncio.sleep(0.5)
        started = time.perf_counter()
        for _ in range(200):
            await http.post(root + "/_emulator/clock/advance", json={"seconds": 0.25})
            if all(task.done() for task in tasks):
                break
            await asyncio.sleep(0.02)
        results = await asyncio.gather(*tasks, return_exceptions=True)
        elapsed = time.perf_counter() - started
        expected = len((await http.get(f"/fine-tunes/{job_id}/events")).json()["data"]) + 1
        complete = sum(1 for r in results if isinstance(r, list) and len(r) == expected and r[-1] == "[DONE]")
        errors = sum(1 for r in results if isinstance(r, BaseException))
        return complete, errors, elapsed


def bare_round_trip(port: int) -> float:
    """Seconds for one GET /v1/models of the bare Starlette app (the baseline of an HTTP measurement)."""
    with server(bare_command(port), port, "/v1/models"):

        async def trip() -> float:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                return await round_trip(http, "/v1/models")

        return asyncio.run(trip())


def main() -> None:
    local, models_trip = asyncio.run(in_process())
    print(
        f"lifecycle in-process (100 examples, instant): {local * 1000:.1f} ms "
        f"= {local / models_trip:.0f}x one in-process GET /v1/models ({models_trip * 1000:.2f} ms); target < 50 ms"
    )
    port, bare_port = free(), free()
    with server(ftemu_command(port, "--speed", "instant"), port, "/v1/models"):
        remote = asyncio.run(over_http(f"http://127.0.0.1:{port}/v1"))
    bare = bare_round_trip(bare_port)
    print(
        f"lifecycle over HTTP: {remote * 1000:.1f} ms = {remote / bare:.0f}x one bare Starlette round trip "
        f"({bare * 1000:.2f} ms); target < 150 ms"
    )
    port = free()
    with server(ftemu_command(port, "--clock", "manual"), port, "/v1/models"):
        complete, errors, elapsed = asyncio.run(followers(f"http://127.0.0.1:{port}", 200))
    print(
        f"200 concurrent followers: {complete}/200 received every event and [DONE], {errors} errors, "
        f"job run in {elapsed:.2f} s"
    )


if __name__ == "__main__":
    main()
