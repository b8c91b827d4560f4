"""Webhooks of fine-tuning jobs: succeeded, failed (scripted or on validation) and cancelled, each accepted by the
current SDK's `webhooks.unwrap`."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from starlette.applications import Starlette

from tests.conftest import in_process
from tests.emulator.control.test_outcomes import outcome
from tests.emulator.control.test_outcomes_v1 import advance_until, create, get
from tests.emulator.control.test_webhooks import Receiver, unwrapped, wait, webhook_app
from tests.emulator.legacy.lifecycle import advance
from tests.emulator.v1.support import chat_lines


@pytest.fixture
def endpoint() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.server.shutdown()


def test_fine_tuning_job_webhooks_unwrap_with_the_sdk(make_app: Callable[..., Starlette], endpoint: Receiver) -> None:
    app = webhook_app(make_app, endpoint.url)
    api = in_process(app)
    succeeded = advance_until(api, create(api)["id"], "succeeded", step=600)
    outcome(api, next_job=True, fail_at_step=3, code="training_diverged", message="The loss became NaN.")
    scripted = advance_until(api, create(api)["id"], "failed", step=600)
    invalid = advance_until(api, create(api, chat_lines(7))["id"], "failed", step=600)
    cancelled = create(api)
    assert api.post(f"/fine_tuning/jobs/{cancelled['id']}/cancel").json()["status"] == "cancelled"
    advance(api, 3600)
    wait(app)
    events = unwrapped(endpoint)
    assert [(event.type, event.data.id) for event in events] == [
        ("fine_tuning.job.succeeded", succeeded["id"]),
        ("fine_tuning.job.failed", scripted["id"]),
        ("fine_tuning.job.failed", invalid["id"]),
        ("fine_tuning.job.cancelled", cancelled["id"]),
    ]
    assert events[0].created_at == succeeded["finished_at"]
    assert get(api, invalid["id"])["error"]["code"] == "invalid_n_examples"
    assert len({event.id for event in events}) == 4
