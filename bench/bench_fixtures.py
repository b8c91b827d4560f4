"""Issue 16: a pytest user's test through the plugin's SDK fixtures, in-process against over a socket.

What `ftemu` plus `ftemu_openai` (or `ftemu_async_openai`) do for every test, with `ftemu_link` either way: a clean
slate (POST /_emulator/reset, through the kit's in-process control client), a fresh SDK client with its default
retries, the test's calls, the clients closed. The socket link is the fixtures' own: the same in-process
instance served by a uvicorn thread. The test's calls are a fine-tuning user's: upload a file, create a job
(instant speed: it has succeeded when the create answers), retrieve it, read its events, ask the tuned model.

Both links run in alternating batches in one run (so a noisy neighbour hits both alike); each figure is the median
of the batches' mean milliseconds per test, set-up (fixtures) and body (the test's own calls) apart.
bench/bench_sdk.py splits single SDK calls into the SDK's, the app's and the transport's time.
"""

from __future__ import annotations

import asyncio
import io
import statistics
import subprocess
import time
from collections.abc import Callable, Generator, Iterator

from bench.bench_sdk import HI, LINES, TUNED
from conformance.handle import Ftemu
from conformance.options import TargetOptions
from conformance.targets import Pool

LINKS = ("in-process", "socket")
BATCHES, TESTS = 9, 10  # alternating batches of TESTS tests on each link, after one warm-up batch each
Times = dict[str, dict[str, list[float]]]  # link -> part ("set-up", "body") -> each batch's mean seconds per test


def sync_test(handle: Ftemu, socket: bool) -> float:
    """One test's set-up, as the fixtures do it; then its body. Returns when the body started."""
    handle.reset()
    client = handle.sdk(socket=socket)
    body_started = time.perf_counter()
    training = client.files.create(file=("train.jsonl", io.BytesIO(LINES)), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(model=TUNED, training_file=training.id)
    job = client.fine_tuning.jobs.retrieve(job.id)
    assert job.status == "succeeded" and job.fine_tuned_model
    assert client.fine_tuning.jobs.list_events(job.id).data
    client.chat.completions.create(model=job.fine_tuned_model, messages=HI)
    return body_started


async def async_test(handle: Ftemu, socket: bool) -> float:
    handle.reset()
    client = handle.async_sdk(socket=socket)
    body_started = time.perf_counter()
    training = await client.files.create(file=("train.jsonl", io.BytesIO(LINES)), purpose="fine-tune")
    job = await client.fine_tuning.jobs.create(model=TUNED, training_file=training.id)
    job = await client.fine_tuning.jobs.retrieve(job.id)
    assert job.status == "succeeded" and job.fine_tuned_model
    assert (await client.fine_tuning.jobs.list_events(job.id)).data
    await client.chat.completions.create(model=job.fine_tuned_model, messages=HI)
    await client.close()
    return body_started


def batches() -> Iterator[tuple[str, bool]]:
    """(link, counted) for each batch: both links in turn, after a warm-up batch of each."""
    for batch in range(BATCHES + 1):
        for link in LINKS:
            yield link, batch > 0


def add(times: Times, link: str, setups: list[float], bodies: list[float]) -> None:
    times.setdefault(link, {}).setdefault("set-up", []).append(statistics.mean(setups))
    times[link].setdefault("body", []).append(statistics.mean(bodies))


def timed_tests(pool: Pool) -> Generator[tuple[Ftemu, bool], float, Times]:
    """Each test's (handle, over the socket), for the driver to run and send back when its body started; returns
    the times once every batch has run."""
    times: Times = {}
    instance = pool.get()
    for link, counted in batches():
        setups, bodies = [], []
        for _ in range(TESTS):
            handle = Ftemu(instance)
            started = time.perf_counter()
            body_started = yield handle, link == "socket"
            handle.close()
            setups.append(body_started - started)
            bodies.append(time.perf_counter() - body_started)
        if counted:
            add(times, link, setups, bodies)
    return times


def run_sync(pool: Pool) -> Times:
    tests = timed_tests(pool)
    test = next(tests)
    try:
        while True:
            test = tests.send(sync_test(*test))
    except StopIteration as done:
        return done.value


async def run_async(pool: Pool) -> Times:
    tests = timed_tests(pool)
    test = next(tests)
    try:
        while True:
            test = tests.send(await async_test(*test))
    except StopIteration as done:
        return done.value


def report(title: str, times: Times) -> None:
    def ms(link: str, part: str) -> float:
        return statistics.median(times[link][part]) * 1000

    def ratio(parts: Callable[[str, int], float]) -> float:
        """The median over batches of socket / in-process (batch i of both links ran side by side)."""
        return statistics.median(parts("socket", i) / parts("in-process", i) for i in range(BATCHES))

    def whole(link: str, i: int) -> float:
        return times[link]["set-up"][i] + times[link]["body"][i]

    def body(link: str, i: int) -> float:
        return times[link]["body"][i]

    print(f"{title} (ms per test: medians of {BATCHES} alternating batches of {TESTS} tests)")
    print(f"  {'link':12} {'set-up':>7} {'body':>7} {'test':>7}")
    for link in LINKS:
        setup, calls = ms(link, "set-up"), ms(link, "body")
        print(f"  {link:12} {setup:7.2f} {calls:7.2f} {setup + calls:7.2f}")
    print(f"  socket / in-process: the whole test {ratio(whole):.2f}x, its calls alone {ratio(body):.2f}x")


def main() -> None:
    pool = Pool(TargetOptions(), None)  # the plugin's default target: ftemu in-process, the kit's settings
    try:
        report("sync SDK fixtures (ftemu_openai)", run_sync(pool))
        report("async SDK fixtures (ftemu_async_openai)", asyncio.run(run_async(pool)))
    finally:
        pool.close()
    print("(target: in-process >= 2x faster than over a socket)")
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
