"""Completions throughput against a 10,000-example tuned model, as a ratio to a bare Starlette endpoint.

Both servers run in their own process under the same uvicorn settings on loopback; one keep-alive client
sends the same short request to each in turn, for a bounded number of requests, and the ratio of the two
rates is printed. Then the nearest-prompt lookup is timed in-process on a 10,000-example index.
"""

from __future__ import annotations

import functools
import gc
import json
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import BENCH_UVICORN, bare_and_ftemu, print_lookup_times, print_ratio_rounds, run_bare  # noqa: E402
from emulator.inference.nearest import NearestIndex  # noqa: E402

EXAMPLES = 10_000
KEY = "sk-bench-0123456789abcdef"
PROMPT = "The capital of Country4242 is\n\n###\n\n"


def examples() -> list[tuple[str, str]]:
    return [(f"The capital of Country{i} is\n\n###\n\n", f" City{i}\n") for i in range(EXAMPLES)]


def serve(kind: str, port: int) -> None:
    import uvicorn

    from emulator import Settings, create_app

    if kind == "bare":
        run_bare("/v1/completions", "text_completion", port)
    else:
        settings = Settings(memory=True, speed="instant", seed=1)
        uvicorn.run(create_app(settings), port=port, **BENCH_UVICORN)  # type: ignore[arg-type]


def tuned_model(http: httpx.Client) -> str:
    data = "".join(json.dumps({"prompt": p, "completion": c}) + "\n" for p, c in examples()).encode()
    file_id = http.post("/files", files={"file": ("train.jsonl", data)}, data={"purpose": "fine-tune"}).json()["id"]
    job = http.post("/fine-tunes", json={"training_file": file_id, "model": "curie"}).json()
    model: str = http.get(f"/fine-tunes/{job['id']}").json()["fine_tuned_model"]
    return model


def throughput() -> None:
    with bare_and_ftemu(__file__, KEY, attempts=200) as (b, f):
        model = tuned_model(f)
        body = {"model": model, "prompt": PROMPT, "stop": ["\n"], "max_tokens": 16}
        answer = f.post("/completions", json=body).json()["choices"][0]["text"]
        print(f"tuned model {model} ({EXAMPLES} examples) answers {PROMPT!r} with {answer!r}")
        b.post("/completions", json=body)
        print_ratio_rounds(b, f, "/completions", body, label="completions", target=0.33)


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
        print_lookup_times(kind, [functools.partial(index.nearest, prompt) for prompt in prompts])


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]))
    else:
        lookup()
        throughput()
