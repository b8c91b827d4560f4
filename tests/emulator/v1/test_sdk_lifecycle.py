"""The current openai SDK, unmodified, sync and async, in-process and over a socket: the whole modern lifecycle.

One scenario, written once: each SDK call's result is awaited when the client is async. The manual clock is moved
through the control plane, so every transition is reached without waiting.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx2
import openai
import pytest

from emulator import create_app
from emulator.testing import LiveServer
from tests.conftest import KEY, fast_settings
from tests.emulator.v1.support import chat_lines, jsonl, preference_lines, sync_transport

MODEL = "gpt-4o-mini-2024-07-18"
CAPTURED_START = [
    "Created fine-tuning job: {id}",
    "Validating training file: {file}",
    "Files validated, moving job to queued state",
    "Fine-tuning job started",
]
Client = openai.OpenAI | openai.AsyncOpenAI


async def result(value: Any) -> Any:
    """The SDK call's value: awaited for the async client."""
    return await value if inspect.isawaitable(value) else value


async def every(page: Any) -> list[Any]:
    """Every item of an auto-paging list (the SDK asks again with `after` while has_more)."""
    if hasattr(page, "__aiter__"):
        return [item async for item in page]
    return list(await result(page))


@dataclass
class Target:
    client: Client
    advance: Callable[[float], Any]

    async def move(self, seconds: float) -> None:
        await result(self.advance(seconds))

    async def job(self, job_id: str) -> Any:
        return await result(self.client.fine_tuning.jobs.retrieve(job_id))

    async def upload(self, records: list[dict[str, Any]]) -> str:
        created = await result(self.client.files.create(file=("train.jsonl", jsonl(records)), purpose="fine-tune"))
        return str(created.id)

    async def follow(self, job_id: str, statuses: list[str]) -> Any:
        """Move the clock until the job is over, noting every status seen."""
        for _ in range(400):
            job = await self.job(job_id)
            if not statuses or statuses[-1] != job.status:
                statuses.append(job.status)
            if job.status in ("succeeded", "failed", "cancelled"):
                return job
            await self.move(5)
        raise AssertionError(f"{job_id} never finished: {statuses}")


async def scenario_success(t: Target) -> None:
    jobs = t.client.fine_tuning.jobs
    file_id = await t.upload(chat_lines(12))
    created = await result(jobs.create(model=MODEL, training_file=file_id, suffix="marv", metadata={"team": "a"}))
    assert created.status == "validating_files" and created.model == MODEL and created.user_provided_suffix == "marv"
    assert created.method.type == "supervised" and created.hyperparameters.n_epochs == "auto"
    statuses: list[str] = []
    done = await t.follow(created.id, statuses)
    assert statuses[-1] == "succeeded" and "running" in statuses
    assert (
        done.fine_tuned_model.startswith(f"ft:{MODEL}:personal:marv:") and len(done.fine_tuned_model.split(":")[4]) == 8
    )
    assert done.hyperparameters.n_epochs == 8 and done.hyperparameters.batch_size == 1
    assert done.trained_tokens > 0 and done.finished_at is not None and len(done.result_files) == 1

    events = await every(jobs.list_events(created.id, limit=7))
    messages = [event.message for event in reversed(events)]
    assert messages[:4] == [text.format(id=created.id, file=file_id) for text in CAPTURED_START]
    assert messages[-2:] == [
        f"New fine-tuned model created: {done.fine_tuned_model}",
        "The job has successfully completed",
    ]
    assert len({event.id for event in events}) == len(events) and all(e.id.startswith("ftevent-") for e in events)
    steps = [event.data["step"] for event in reversed(events) if event.type == "metrics"]
    assert steps == list(range(1, 12 * 8 + 1))

    checkpoints = await every(jobs.checkpoints.list(created.id))
    assert [c.step_number for c in checkpoints] == [96, 84, 72]
    assert all(c.fine_tuned_model_checkpoint.endswith(f":ckpt-step-{c.step_number}") for c in checkpoints)
    assert [job.id for job in await every(jobs.list(metadata={"team": "a"}))] == [created.id]

    models = await every(t.client.models.list())
    assert done.fine_tuned_model in [model.id for model in models]
    again = await result(jobs.create(model=done.fine_tuned_model, training_file=file_id))
    assert again.model == done.fine_tuned_model
    continued = await t.follow(again.id, [])
    assert continued.status == "succeeded" and continued.fine_tuned_model.startswith(f"ft:{MODEL}:personal::")

    deleted = await result(t.client.models.delete(done.fine_tuned_model))
    assert deleted.deleted is True
    with pytest.raises(openai.NotFoundError):
        await result(t.client.models.retrieve(done.fine_tuned_model))


async def scenario_failures(t: Target) -> None:
    jobs = t.client.fine_tuning.jobs
    seven = await t.upload(chat_lines(7))
    failed = await t.follow((await result(jobs.create(model=MODEL, training_file=seven))).id, [])
    assert failed.status == "failed" and failed.finished_at is None and failed.fine_tuned_model is None
    assert failed.error.model_dump() == {
        "code": "invalid_n_examples",
        "message": "Training file has 7 example(s), but must have at least 10 examples",
        "param": "training_file",
    }
    chat = await t.upload(chat_lines(12))
    dpo = await result(jobs.create(model=MODEL, training_file=chat, method={"type": "dpo"}))
    failed = await t.follow(dpo.id, [])
    assert failed.error.code == "invalid_training_file" and failed.error.param == "training_file"
    assert failed.error.message == (
        f"The job failed due to an invalid training file. Invalid file format. Input file {chat} is in the "
        "fine-tune-chat format, but the specified fine-tuning job is not using 'supervised' as the training method "
        "(provided method=dpo). "
    )
    cancelled = await result(jobs.cancel((await result(jobs.create(model=MODEL, training_file=chat))).id))
    assert cancelled.status == "cancelled"
    preference = await t.upload(preference_lines(12))
    good_dpo = await result(jobs.create(model=MODEL, training_file=preference, method={"type": "dpo"}))
    assert (await t.follow(good_dpo.id, [])).method.dpo.hyperparameters.beta == 0.1


async def scenario_pause(t: Target) -> None:
    jobs = t.client.fine_tuning.jobs
    job = await result(jobs.create(model=MODEL, training_file=await t.upload(chat_lines(12))))
    while (await t.job(job.id)).status != "running":
        await t.move(0.25)
    paused = await result(jobs.pause(job.id))
    assert paused.status == "paused"
    before = await every(jobs.list_events(job.id))
    await t.move(10_000)
    assert (await t.job(job.id)).status == "paused"
    assert [e.id for e in await every(jobs.list_events(job.id))] == [e.id for e in before]
    assert (await result(jobs.resume(job.id))).status == "running"
    assert (await t.follow(job.id, [])).status == "succeeded"


SCENARIOS = [scenario_success, scenario_failures, scenario_pause]


@asynccontextmanager
async def target(mode: str) -> AsyncIterator[Target]:
    if mode.endswith("socket"):
        with LiveServer(fast_settings()) as server:
            advance_url = server.root_url + "/_emulator/clock/advance"
            if mode.startswith("sync"):
                with openai.OpenAI(base_url=server.base_url, api_key=KEY, max_retries=0) as client:
                    yield Target(client, lambda s: httpx2.post(advance_url, json={"seconds": s}).raise_for_status())
            else:
                async with httpx2.AsyncClient() as http:
                    client = openai.AsyncOpenAI(base_url=server.base_url, api_key=KEY, max_retries=0, http_client=http)

                    async def advance(seconds: float) -> None:
                        (await http.post(advance_url, json={"seconds": seconds})).raise_for_status()

                    yield Target(client, advance)
        return
    app = create_app(fast_settings())
    try:
        if mode.startswith("sync"):
            with httpx2.Client(transport=sync_transport(app), base_url="http://ftemu") as http:
                client = openai.OpenAI(base_url="http://ftemu/v1", api_key=KEY, max_retries=0, http_client=http)
                yield Target(
                    client, lambda s: http.post("/_emulator/clock/advance", json={"seconds": s}).raise_for_status()
                )
        else:
            transport = httpx2.ASGITransport(app=app)
            async with httpx2.AsyncClient(transport=transport, base_url="http://ftemu") as http:
                client = openai.AsyncOpenAI(base_url="http://ftemu/v1", api_key=KEY, max_retries=0, http_client=http)

                async def advance_in_process(seconds: float) -> None:
                    (await http.post("/_emulator/clock/advance", json={"seconds": seconds})).raise_for_status()

                yield Target(client, advance_in_process)
    finally:
        app.state.core.close()


@pytest.fixture(params=["sync-in-process", "async-in-process", "sync-socket", "async-socket"])
def mode(request: pytest.FixtureRequest) -> Iterator[str]:
    yield request.param


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_fine_tuning_jobs_sdk(mode: str, scenario: Callable[[Target], Any]) -> None:
    async def run() -> None:
        async with target(mode) as t:
            await scenario(t)

    asyncio.run(run())
