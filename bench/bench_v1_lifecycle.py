"""Issue 14: a modern job to a usable model with --speed instant (in-process and over HTTP), and paging the events
of a 10,000-step job, each against a baseline measured in the same run."""

from __future__ import annotations

import asyncio
import json
import statistics
import time

import httpx

from bench.bench_lifecycle import bare_round_trip, round_trip
from bench.common import AUTH, free, ftemu_command, server
from emulator import Settings, create_app

MODEL = "gpt-4o-mini-2024-07-18"


def chat_data(count: int) -> bytes:
    return "".join(
        json.dumps(
            {
                "messages": [
                    {"role": "user", "content": f"What is {i} plus one?"},
                    {"role": "assistant", "content": f"{i + 1}."},
                ]
            }
        )
        + "\n"
        for i in range(count)
    ).encode()


DATA = chat_data(100)


async def to_model(http: httpx.AsyncClient) -> None:
    """Upload 100 chat examples, create a job, read it until it succeeded, then find its model."""
    upload = await http.post("/files", files={"file": ("train.jsonl", DATA)}, data={"purpose": "fine-tune"})
    job = (await http.post("/fine_tuning/jobs", json={"model": MODEL, "training_file": upload.json()["id"]})).json()
    while job["status"] != "succeeded":
        job = (await http.get(f"/fine_tuning/jobs/{job['id']}")).json()
    (await http.get(f"/models/{job['fine_tuned_model']}")).raise_for_status()


async def timed(http: httpx.AsyncClient, runs: int) -> float:
    await to_model(http)
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await to_model(http)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


async def in_process() -> tuple[float, float, float]:
    app = create_app(Settings(memory=True, speed="instant"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ftemu/v1", headers=AUTH, timeout=600) as http:
        lifecycle = await timed(http, 10)
        models = await round_trip(http, "/models")
        page = await events_pages(http)
    return lifecycle, models, page


async def events_pages(http: httpx.AsyncClient) -> float:
    """A 10,000-step job (1,000 examples x 10 epochs, batch 1): median time of a 100-event page, at every depth."""
    data = chat_data(1000)
    upload = await http.post("/files", files={"file": ("big.jsonl", data)}, data={"purpose": "fine-tune"})
    body = {"model": MODEL, "training_file": upload.json()["id"], "hyperparameters": {"n_epochs": 10, "batch_size": 1}}
    job = (await http.post("/fine_tuning/jobs", json=body)).json()
    assert (await http.get(f"/fine_tuning/jobs/{job['id']}")).json()["status"] == "succeeded"
    samples, after, pages = [], None, 0
    while True:
        params = {"limit": 100} | ({"after": after} if after else {})
        started = time.perf_counter()
        page = (await http.get(f"/fine_tuning/jobs/{job['id']}/events", params=params)).json()
        samples.append(time.perf_counter() - started)
        pages += 1
        if not page["has_more"]:
            break
        after = page["data"][-1]["id"]
    assert pages > 100, pages
    return statistics.median(samples)


async def over_http(base: str) -> float:
    async with httpx.AsyncClient(base_url=base, headers=AUTH, timeout=60) as http:
        return await timed(http, 10)


def main() -> None:
    local, models_trip, page = asyncio.run(in_process())
    print(
        f"modern job to a usable model in-process (100 examples, instant): {local * 1000:.1f} ms "
        f"= {local / models_trip:.0f}x one in-process GET /v1/models ({models_trip * 1000:.2f} ms); target < 50 ms"
    )
    print(
        f"events of a 10,000-step job, one 100-event page in-process: {page * 1000:.2f} ms "
        f"= {page / models_trip:.1f}x one GET /v1/models; target < 5 ms"
    )
    port, bare_port = free(), free()
    with server(ftemu_command(port, "--speed", "instant"), port, "/v1/models"):
        remote = asyncio.run(over_http(f"http://127.0.0.1:{port}/v1"))
    bare = bare_round_trip(bare_port)
    print(
        f"modern job to a usable model over HTTP: {remote * 1000:.1f} ms = {remote / bare:.0f}x one bare Starlette "
        f"round trip ({bare * 1000:.2f} ms); target < 150 ms"
    )


if __name__ == "__main__":
    main()
