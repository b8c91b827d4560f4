"""Hypothesis: for any sequence of creates, cancels and clock advances, the lifecycle keeps its promises."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from starlette.testclient import TestClient

from emulator import create_app
from tests.conftest import capitals, fast_settings, in_process, upload
from tests.emulator.legacy.lifecycle import advance

ORDER = {"pending": 0, "running": 1, "succeeded": 2, "failed": 2, "cancelled": 2}
TERMINAL_MESSAGES = re.compile(r"Fine-tune (succeeded|cancelled|failed)")
QUEUE = re.compile(r"Queue number: (\d+)")


class Lifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.app = create_app(fast_settings(training_slots=1))
        self.api: TestClient = in_process(self.app)
        self.files = {model: upload(self.api, capitals(20 + i * 7))["id"] for i, model in enumerate(("ada", "curie"))}
        self.jobs: list[str] = []
        self.last_status: dict[str, str] = {}

    def teardown(self) -> None:
        self.app.state.core.close()

    @rule(model=st.sampled_from(["ada", "curie"]), epochs=st.integers(1, 3))
    def create(self, model: str, epochs: int) -> None:
        job = self.api.post(
            "/fine-tunes", json={"training_file": self.files[model], "model": model, "n_epochs": epochs}
        ).json()
        self.jobs.append(job["id"])

    @precondition(lambda self: bool(self.jobs))
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        job_id = data.draw(st.sampled_from(self.jobs))
        response = self.api.post(f"/fine-tunes/{job_id}/cancel")
        assert response.status_code in (200, 400)
        if response.status_code == 400:
            assert self.last_status[job_id] in ("succeeded", "failed", "cancelled")

    @rule(seconds=st.floats(0, 5, allow_nan=False))
    def tick(self, seconds: float) -> None:
        advance(self.api, seconds)

    @invariant()
    def promises_hold(self) -> None:
        for job_id in self.jobs:
            job = self.api.get(f"/fine-tunes/{job_id}").json()
            status = job["status"]
            assert ORDER[status] >= ORDER[self.last_status.get(job_id, "pending")]
            self.last_status[job_id] = status
            events = job["events"]
            assert [e["created_at"] for e in events] == sorted(e["created_at"] for e in events)
            terminal = [e for e in events if TERMINAL_MESSAGES.fullmatch(e["message"])]
            assert len(terminal) == (1 if ORDER[status] == 2 else 0)
            if terminal:
                assert events[-1] is terminal[0]
            numbers = [int(m.group(1)) for e in events if (m := QUEUE.search(e["message"]))]
            assert numbers == sorted(numbers, reverse=True)
            assert (status == "running") == (
                "Fine-tune started" in [e["message"] for e in events] and ORDER[status] < 2
            )


Lifecycle.TestCase.settings = settings(
    max_examples=30, stateful_step_count=12, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_lifecycle_properties = Lifecycle.TestCase
