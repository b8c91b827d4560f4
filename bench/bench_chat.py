"""Chat completions throughput against a 10,000-conversation tuned model, as a ratio to a bare Starlette endpoint.

Both servers run in their own process under the same uvicorn settings on loopback; one keep-alive client sends
the same short chat request to each in turn, for a bounded number of requests, and the ratio of the two rates is
printed. The tuned model's rows are written into the store before the server starts, as a succeeded fine-tuning
job leaves them. Then the nearest-conversation lookup is timed in-process over 10,000 conversations.
"""

from __future__ import annotations

import functools
import gc
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import BENCH_UVICORN, bare_and_ftemu, print_lookup_times, print_ratio_rounds, run_bare  # noqa: E402
from emulator.inference.chat_answers import ChatSpec, choose  # noqa: E402
from emulator.inference.chat_knowledge import build_knowledge  # noqa: E402
from emulator.inference.chat_prompt import conversation_key  # noqa: E402
from emulator.store import ChatExample, ModelRecord  # noqa: E402

CONVERSATIONS = 10_000
KEY = "sk-bench-0123456789abcdef"
MODEL = "ft:gpt-4o-mini-2024-07-18:personal:bench:Bn12Bn12"
SYSTEM = {"role": "system", "content": "You are a helpful assistant that knows every country's capital."}


def messages(i: int) -> list[dict[str, Any]]:
    return [SYSTEM, {"role": "user", "content": f"What is the capital of Country{i}?"}]


def examples() -> list[ChatExample]:
    return [ChatExample(messages(i), {"role": "assistant", "content": f"City{i}."}) for i in range(CONVERSATIONS)]


def serve(kind: str, port: int) -> None:
    import uvicorn

    from emulator import Settings, create_app

    if kind == "bare":
        run_bare("/v1/chat/completions", "chat.completion", port)
        return
    app = create_app(Settings(memory=True, speed="instant", seed=1))
    core = app.state.core
    organization = core.auth.organization_for(f"Bearer {KEY}", None)
    core.store.insert_chat_examples("ftjob-bench", examples())
    root = "gpt-4o-mini-2024-07-18"
    core.store.insert_model(ModelRecord(MODEL, organization.id, 1733000000, root, root, "ftjob-bench", "p", False))
    uvicorn.run(app, port=port, **BENCH_UVICORN)  # type: ignore[arg-type]


def throughput() -> None:
    with bare_and_ftemu(__file__, KEY) as (b, f):
        body = {"model": MODEL, "messages": messages(4242), "max_completion_tokens": 16}
        started = time.perf_counter()
        answer = f.post("/chat/completions", json=body).json()["choices"][0]["message"]["content"]
        print(
            f"tuned model ({CONVERSATIONS} conversations) answers {messages(4242)[-1]['content']!r} with "
            f"{answer!r}; first request (builds the index) {time.perf_counter() - started:.2f} s"
        )
        b.post("/chat/completions", json=body)
        print_ratio_rounds(b, f, "/chat/completions", body, label="chat completions", target=0.4)


def lookup() -> None:
    started = time.perf_counter()
    knowledge = build_knowledge(examples(), 0.9)
    print(
        f"nearest-conversation index over {CONVERSATIONS} conversations built in {time.perf_counter() - started:.2f} s"
    )
    gc.collect()
    for kind, specs in lookup_specs(CONVERSATIONS, 97).items():
        print_lookup_times(kind, [functools.partial(choose, spec, knowledge) for spec in specs])


def lookup_specs(count: int, step: int) -> dict[str, list[ChatSpec]]:
    """Every `step`-th of `count` conversations: as trained, reworded, and unrelated to any."""
    queries = {
        "exact": [messages(i) for i in range(0, count, step)],
        "similar": [
            [SYSTEM, {"role": "user", "content": f"Which city is the capital of Country{i}?"}]
            for i in range(0, count, step)
        ],
        "unrelated": [
            [{"role": "user", "content": f"Tell me a story about dragon {i}"}] for i in range(0, count, step)
        ],
    }
    return {
        kind: [
            ChatSpec(seed=1, model=MODEL, key=conversation_key(c), temperature=1, max_tokens=16, stop=[])
            for c in conversations
        ]
        for kind, conversations in queries.items()
    }


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]))
    else:
        lookup()
        throughput()
