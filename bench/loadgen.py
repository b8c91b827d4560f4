"""A load generator for bench_mixed: N keep-alive connections on uvloop, the mix of mixed.lua, a latency per kind.

wrk gives one histogram for the whole mix; this gives p50/p99/max of each kind of request, so a slow tail can be
told apart (a create queueing behind others, a list growing). It runs in its own process (`python -m
bench.loadgen`), writes requests as raw HTTP/1.1 and reads responses by their Content-Length, which costs a few
tens of microseconds a request: at the rates the mix reaches it uses a small part of one core (it prints its
own CPU time, so a run can show it was not the bottleneck).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import time
from collections.abc import Callable

BOUNDARY = "ftemu-bench-boundary"
# The training file every organisation uploads: a tuned model then knows these 100 prompts.
CAPITALS = "".join(
    json.dumps({"prompt": f"The capital of Country{i} is\n\n###\n\n", "completion": f" City{i}\n"}) + "\n"
    for i in range(100)
).encode()
# Weights out of 92 (bench_mixed's followers aside): models 25, files 12, fine-tunes 12, completion 15,
# tuned 10, upload 10, create 8.
KINDS = (("models", 25), ("files", 12), ("fine-tunes", 12), ("completion", 15), ("tuned", 10), ("upload", 10))
KINDS += (("create", 8),)

Request = Callable[[random.Random, tuple[str, str, str]], tuple[str, bytes]]


def http_request(method: str, path: str, key: str, body: bytes = b"", content_type: str = "") -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: ftemu\r\nAuthorization: Bearer {key}\r\n"
    if content_type:
        head += f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


def upload_body() -> bytes:
    form = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nfine-tune\r\n'
    form += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="t.jsonl"\r\n'
    form += "Content-Type: application/octet-stream\r\n\r\n"
    return form.encode() + CAPITALS + f"\r\n--{BOUNDARY}--\r\n".encode()


UPLOAD = upload_body()


def draw(rng: random.Random, tenant: tuple[str, str, str], only: str | None = None) -> tuple[str, bytes]:
    """One request of the mix (or of one kind), acting for `tenant` (key, training file, tuned model)."""
    key, file_id, model = tenant
    kind = only or rng.choices([name for name, _ in KINDS], weights=[weight for _, weight in KINDS])[0]
    if kind in ("models", "files", "fine-tunes"):
        return kind, http_request("GET", f"/v1/{kind}", key)
    if kind == "completion":
        body = {"model": "ada", "prompt": "Hello", "max_tokens": 8}
    elif kind == "tuned":
        body = {"model": model, "prompt": f"The capital of Country{rng.randrange(100)} is\n\n###\n\n", "max_tokens": 4}
    elif kind == "upload":
        return kind, http_request("POST", "/v1/files", key, UPLOAD, f"multipart/form-data; boundary={BOUNDARY}")
    else:
        body = {"training_file": file_id}
    path = "/v1/fine-tunes" if kind == "create" else "/v1/completions"
    return kind, http_request("POST", path, key, json.dumps(body).encode(), "application/json")


async def read_response(reader: asyncio.StreamReader) -> int:
    """The status of one response, whose body is read (by Content-Length) and dropped."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return status


Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def connect(port: int, key: str) -> Stream:
    """A connection the server has accepted and answered once (not measured).

    A server busy with other connections' requests accepts new ones slowly (uvloop takes one a loop pass), so
    connections opened as the run starts would count that wait against their first request.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(http_request("GET", "/v1/models", key))
    await read_response(reader)
    return reader, writer


async def connection(
    stream: Stream,
    tenants: list[tuple[str, str, str]],
    seed: int,
    stop: float,
    think: float,
    seen: dict[str, list[float]],
    only: str | None,
) -> list[str]:
    rng = random.Random(seed)
    errors: list[str] = []
    reader, writer = stream
    try:
        while True:
            if think:
                await asyncio.sleep(rng.uniform(0, 2 * think))
            if time.perf_counter() >= stop:
                break
            kind, raw = draw(rng, rng.choice(tenants), only)
            started = time.perf_counter()
            writer.write(raw)
            status = await read_response(reader)
            seen.setdefault(kind, []).append(time.perf_counter() - started)
            if status != 200:
                errors.append(f"{kind} {status}")
    except (OSError, asyncio.IncompleteReadError) as exc:
        errors.append(f"connection: {type(exc).__name__}")
    finally:
        writer.close()
    return errors


def summary(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    if not ordered:
        return {"requests": 0}
    pick = lambda share: ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000  # noqa: E731
    return {"requests": len(ordered), "p50_ms": pick(0.5), "p99_ms": pick(0.99), "max_ms": ordered[-1] * 1000}


async def run(
    port: int, tenants: list[tuple[str, str, str]], connections: int, seconds: float, think: float, only: str | None
) -> None:
    seen: dict[str, list[float]] = {}
    streams = await asyncio.gather(*(connect(port, tenants[0][0]) for _ in range(connections)))
    started = time.perf_counter()
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    stop = started + seconds
    tasks = [connection(stream, tenants, number, stop, think, seen, only) for number, stream in enumerate(streams)]
    errors = [error for found in await asyncio.gather(*tasks) for error in found]
    elapsed = time.perf_counter() - started
    used = resource.getrusage(resource.RUSAGE_SELF)
    every = [latency for latencies in seen.values() for latency in latencies]
    print(
        json.dumps(
            {
                "seconds": elapsed,
                "cpu_seconds": used.ru_utime + used.ru_stime - cpu.ru_utime - cpu.ru_stime,
                "errors": errors,
                "all": summary(every),
                "kinds": {kind: summary(latencies) for kind, latencies in sorted(seen.items())},
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--connections", type=int, default=184)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--think-ms", type=float, default=0, help="mean pause before each request (0 to 2x)")
    parser.add_argument("--tenants", required=True, help='"key file model" triples separated by commas')
    parser.add_argument("--only", choices=[name for name, _ in KINDS], help="every request of this kind")
    args = parser.parse_args()
    tenants = [tuple(item.split()) for item in args.tenants.split(",")]
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    think = args.think_ms / 1000
    asyncio.run(run(args.port, tenants, args.connections, args.seconds, think, args.only))  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
