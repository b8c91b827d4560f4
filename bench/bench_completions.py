"""Completions throughput against a 10,000-example tuned model, as a ratio to a bare Starlette endpoint.

Both servers run in their own process under the same uvicorn settings on loopback; one keep-alive client
sends the same short request to each in turn, for a bounded number of requests, and the ratio of the two
rates is printed. Then the nearest-prompt lookup is timed in-process on a 10,000-example index.
"""

from __future__ import annotations

import gc
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emulator.inference.nearest import NearestIndex  # noqa: E402
from emulator.testing import free_port  # noqa: E402

EXAMPLES = 10_000
REQUESTS = 1500
ROUNDS = 3
KEY = "sk-bench-0123456789abcdef"
PROMPT = "The capital of Country4242 is\n\n###\n\n"
UVICORN = {"host": "127.0.0.1", "log_level": "warning", "access_log": False}


def examples() -> list[tuple[str, str]]:
    return [(f"The capital of Country{i} is\n\n###\n\n", f" City{i}\n") for i in range(EXAMPLES)]


def serve(kind: str, port: int) -> None:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from emulator import Settings, create_app

    async def bare(request: Request) -> JSONResponse:
        body = await request.json()
        return JSONResponse({"object": "text_completion", "model": body.get("model"), "choices": []})

    if kind == "bare":
        app = Starlette(routes=[Route("/v1/completions", bare, methods=["POST"])])
        uvicorn.run(app, port=port, **UVICORN)  # type: ignore[arg-type]
    else:
        settings = Settings(memory=True, speed="instant", seed=1)
        uvicorn.run(create_app(settings), port=port, **UVICORN)  # type: ignore[arg-type]


def start(kind: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, __file__, "--serve", kind, str(port)], cwd=ROOT)
    url = f"http://127.0.0.1:{port}/v1"
    for _ in range(200):
        try:
            httpx.get(url + "/models", headers={"Authorization": f"Bearer {KEY}"}, timeout=1)
            return process, url
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit(f"{kind} server did not start")


def tuned_model(http: httpx.Client) -> str:
    data = "".join(json.dumps({"prompt": p, "completion": c}) + "\n" for p, c in examples()).encode()
    file_id = http.post("/files", files={"file": ("train.jsonl", data)}, data={"purpose": "fine-tune"}).json()["id"]
    job = http.post("/fine-tunes", json={"training_file": file_id, "model": "curie"}).json()
    model: str = http.get(f"/fine-tunes/{job['id']}").json()["fine_tuned_model"]
    return model


def rate(http: httpx.Client, body: dict[str, object]) -> float:
    """Completed requests per second over REQUESTS sequential keep-alive requests."""
    started = time.perf_counter()
    for _ in range(REQUESTS):
        response = http.post("/completions", json=body)
        assert response.status_code == 200, response.text
    return REQUESTS / (time.perf_counter() - started)


def throughput() -> None:
    bare, bare_url = start("bare")
    ftemu, ftemu_url = start("ftemu")
    headers = {"Authorization": f"Bearer {KEY}"}
    try:
        with (
            httpx.Client(base_url=bare_url, headers=headers) as b,
            httpx.Client(base_url=ftemu_url, headers=headers, timeout=60) as f,
        ):
            model = tuned_model(f)
            body = {"model": model, "prompt": PROMPT, "stop": ["\n"], "max_tokens": 16}
            answer = f.post("/completions", json=body).json()["choices"][0]["text"]
            print(f"tuned model {model} ({EXAMPLES} examples) answers {PROMPT!r} with {answer!r}")
            b.post("/completions", json=body)
            ratios = []
            for round_number in range(1, ROUNDS + 1):
                bare_rate, ftemu_rate = rate(b, body), rate(f, body)
                ratios.append(ftemu_rate / bare_rate)
                print(
                    f"round {round_number}: bare Starlette {bare_rate:7.0f} req/s   ftemu completions "
                    f"{ftemu_rate:7.0f} req/s   ratio {ratios[-1]:.2f}"
                )
            print(f"completions / bare endpoint: median ratio {statistics.median(ratios):.2f} (target >= 0.33)")
    finally:
        for process in (bare, ftemu):
            process.terminate()
            process.wait(10)


def lookup() -> None:
    started = time.perf_counter()
    index = NearestIndex(examples())
    print(f"nearest-prompt index over {EXAMPLES} examples built in {time.perf_counter() - started:.2f} s")
    gc.collect()
    queries = {
        "exact": [f"The capital of Country{i} is\n\n###\n\n" for i in range(0, EXAMPLES, 97)],
        "similar": [f"What is the capital of Country{i}?" for i in range(0, EXAMPLES, 97)],
        "unrelated": [f"Tell me a story about dragon number {i}" for i in range(0, EXAMPLES, 97)],
    }
    for kind, prompts in queries.items():
        first, best = [], []
        for prompt in prompts:
            runs = []
            for _ in range(3):
                started = time.perf_counter()
                index.nearest(prompt)
                runs.append(time.perf_counter() - started)
            first.append(runs[0])
            best.append(min(runs))
        print(
            f"lookup ({kind:9}, {len(prompts)} prompts): first call median {statistics.median(first) * 1e3:.3f} ms"
            f" max {max(first) * 1e3:.3f} ms; best of 3 median {statistics.median(best) * 1e3:.3f} ms"
            f" max {max(best) * 1e3:.3f} ms (target < 1 ms)"
        )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]))
    else:
        lookup()
        throughput()
