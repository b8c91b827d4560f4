"""Hypothesis: for any mix of modern and legacy jobs, cancels, pauses, resumes and clock moves, the modern
lifecycle keeps its promises; and events read concurrently while a job runs are ordered and never repeated."""

from __future__ import annotations

import math
import threading
from typing import Any

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from starlette.testclient import TestClient

from emulator import create_app
from emulator.core.tokens import encoding_named
from emulator.testing import LiveServer
from emulator.v1.create import message_tokens
from tests.conftest import AUTH, capitals, fast_settings, in_process, upload
from tests.emulator.legacy.lifecycle import advance
from tests.emulator.v1.support import all_events, chat_lines, jsonl

ORDER = {"validating_files": 0, "queued": 1, "running": 2, "paused": 2, "succeeded": 3, "failed": 3, "cancelled": 3}
SIZES = (7, 10, 13)


def expected_tokens(count: int) -> int:
    """What the cookbook's count says one epoch of chat_lines(count) costs, with the o200k tokenizer."""
    encoding = encoding_named("o200k_base")
    return sum(message_tokens(encoding, line["messages"]) for line in chat_lines(count))


class ModernLifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.app = create_app(fast_settings(training_slots=1))
        self.api: TestClient = in_process(self.app)
        self.files = {size: upload(self.api, jsonl(chat_lines(size)))["id"] for size in SIZES}
        self.legacy_file = upload(self.api, capitals(20))["id"]
        self.jobs: dict[str, dict[str, int]] = {}
        self.last: dict[str, str] = {}

    def teardown(self) -> None:
        self.app.state.core.close()

    @rule(size=st.sampled_from(SIZES), batch=st.integers(1, 4), epochs=st.integers(1, 3))
    def create(self, size: int, batch: int, epochs: int) -> None:
        hyperparameters = {"batch_size": batch, "n_epochs": epochs}
        body = {
            "model": "gpt-4o-mini-2024-07-18",
            "training_file": self.files[size],
            "hyperparameters": hyperparameters,
        }
        job = self.api.post("/fine_tuning/jobs", json=body).json()
        self.jobs[job["id"]] = {"size": size, "batch": batch, "epochs": epochs}

    @rule()
    def create_legacy(self) -> None:
        self.api.post("/fine-tunes", json={"training_file": self.legacy_file, "model": "ada", "n_epochs": 1})

    @precondition(lambda self: bool(self.jobs))
    @rule(data=st.data(), action=st.sampled_from(["cancel", "pause", "resume"]))
    def act(self, data: st.DataObject, action: str) -> None:
        job_id = data.draw(st.sampled_from(sorted(self.jobs)))
        assert self.api.post(f"/fine_tuning/jobs/{job_id}/{action}").status_code in (200, 400)

    @rule(seconds=st.floats(0, 3, allow_nan=False))
    def tick(self, seconds: float) -> None:
        advance(self.api, seconds)

    @invariant()
    def promises_hold(self) -> None:
        busy = 0
        for job_id, plan in self.jobs.items():
            job = self.api.get(f"/fine_tuning/jobs/{job_id}").json()
            status = job["status"]
            assert ORDER[status] >= ORDER[self.last.get(job_id, "validating_files")]
            self.last[job_id] = status
            busy += status in ("running", "paused")
            events = self.api.get(f"/fine_tuning/jobs/{job_id}/events", params={"limit": 100}).json()["data"]
            assert [e["created_at"] for e in events] == sorted((e["created_at"] for e in events), reverse=True)
            assert len({e["id"] for e in events}) == len(events)
            if status == "succeeded":
                steps = math.ceil(plan["size"] / plan["batch"]) * plan["epochs"]
                assert sum(e["type"] == "metrics" for e in events) == steps
                assert f"Step {steps}/{steps}" in [e["message"].split(":")[0] for e in events]
                assert job["trained_tokens"] == expected_tokens(plan["size"]) * plan["epochs"]
            if status == "failed":
                assert plan["size"] < 10 and job["error"]["code"] == "invalid_n_examples"
        assert busy <= 1


ModernLifecycle.TestCase.settings = settings(
    max_examples=25, stateful_step_count=12, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_modern_lifecycle_properties = ModernLifecycle.TestCase


def test_events_read_concurrently_are_ordered_and_never_duplicated() -> None:
    with LiveServer(fast_settings()) as server, httpx.Client(base_url=server.base_url, headers=AUTH) as http:
        file_id = upload(http, jsonl(chat_lines(30)))["id"]
        job_id = http.post("/fine_tuning/jobs", json={"model": "gpt-4o-mini-2024-07-18", "training_file": file_id})
        job_id = job_id.json()["id"]
        seen: list[list[dict[str, Any]]] = []
        failures: list[BaseException] = []

        def reader() -> None:
            try:
                with httpx.Client(base_url=server.base_url, headers=AUTH) as own:
                    for _ in range(15):
                        seen.append(all_events(own, job_id))
            except BaseException as exc:
                failures.append(exc)

        threads = [threading.Thread(target=reader) for _ in range(3)]
        for thread in threads:
            thread.start()
        for _ in range(30):
            advance(http, 0.5)
        for thread in threads:
            thread.join()
        assert not failures
        final = all_events(http, job_id)
        for events in seen:
            ids = [event["id"] for event in events]
            assert len(set(ids)) == len(ids)
            # A reader that paged while events arrived sees a newest-first slice of the final list, in order.
            positions = [final.index(event) for event in events]
            assert positions == sorted(positions)
