"""Webhooks: fine_tuning.job.* events signed as the current SDK's `webhooks.unwrap` checks, retried, journaled."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import openai
import pytest
from starlette.applications import Starlette

from emulator.core.webhooks import sign
from tests.conftest import capitals, in_process
from tests.emulator.legacy.lifecycle import control_url, create_job, run_to_end

SECRET = "whsec_" + base64.b64encode(b"ftemu-test-webhook-secret").decode()


class Receiver:
    """A local HTTP endpoint that records each delivery and answers the next scripted status (then 200)."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.deliveries.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.server.shutdown()


def webhook_app(make_app: Callable[..., Starlette], url: str, **changes: str) -> Starlette:
    app = make_app(webhook_url=url, webhook_secret=SECRET, **changes)
    app.state.core.webhooks.retry_delays = (0.01, 0.01, 0.01)
    return app


def wait(app: Starlette) -> None:
    assert app.state.core.webhooks.wait_idle(10)


def unwrapped(receiver: Receiver) -> list[Any]:
    """Every delivery as the current SDK's `webhooks.unwrap` reads it (raising if a signature is wrong)."""
    sdk = openai.OpenAI(api_key="sk-unused", base_url="http://unused.invalid/v1")
    return [sdk.webhooks.unwrap(body, headers, secret=SECRET) for headers, body in receiver.deliveries]


def test_every_delivered_webhook_unwraps_with_the_sdk(make_app: Callable[..., Starlette], receiver: Receiver) -> None:
    app = webhook_app(make_app, receiver.url)
    api = in_process(app)
    succeeded = run_to_end(api, create_job(api, capitals(20), model="ada")["id"])
    cancelled = create_job(api, capitals(20), model="ada")
    api.post(f"/fine-tunes/{cancelled['id']}/cancel")
    emitted = api.post(control_url(api, "/webhooks"), json={"type": "fine_tuning.job.failed", "job": "ftjob-abc"})
    assert emitted.status_code == 200, emitted.text
    wait(app)
    events = unwrapped(receiver)
    sdk = openai.OpenAI(api_key="sk-unused", base_url="http://unused.invalid/v1")
    assert [(event.type, event.data.id) for event in events] == [
        ("fine_tuning.job.succeeded", succeeded["id"]),
        ("fine_tuning.job.cancelled", cancelled["id"]),
        ("fine_tuning.job.failed", "ftjob-abc"),
    ]
    assert events[0].created_at == succeeded["events"][-1]["created_at"]
    assert events[2].id == emitted.json()["id"] and events[2].id.startswith("evt_")
    headers = receiver.deliveries[0][0]
    assert headers["webhook-id"].startswith("wh_") and headers["webhook-signature"].startswith("v1,")
    with pytest.raises(openai.InvalidWebhookSignatureError):
        sdk.webhooks.unwrap(receiver.deliveries[0][1], headers, secret="whsec_" + base64.b64encode(b"other").decode())


def test_failed_delivery_is_retried_and_journaled(make_app: Callable[..., Starlette], receiver: Receiver) -> None:
    receiver.statuses = [500, 503]
    app = webhook_app(make_app, receiver.url)
    api = in_process(app)
    api.post(control_url(api, "/webhooks"), json={"type": "fine_tuning.job.succeeded", "job": "ftjob-1"})
    wait(app)
    assert len(receiver.deliveries) == 3
    assert len({headers["webhook-id"] for headers, _ in receiver.deliveries}) == 1
    outgoing = api.get(control_url(api, "/requests"), params={"direction": "outgoing"}).json()["data"]
    assert [(e["method"], e["path"], e["status"], e["attempt"], e["outcome"]) for e in outgoing] == [
        ("POST", receiver.url, 500, 1, "failed"),
        ("POST", receiver.url, 503, 2, "failed"),
        ("POST", receiver.url, 200, 3, "complete"),
    ]
    assert outgoing[0]["body"]["json"]["data"] == {"id": "ftjob-1"}


def test_webhook_per_organisation_from_the_keys_file(
    make_app: Callable[..., Starlette], receiver: Receiver, tmp_path: Path
) -> None:
    keys = tmp_path / "keys.toml"
    keys.write_text(
        f'"sk-acme-000000000000" = "acme"\n"sk-beta-000000000000" = "beta"\n\n'
        f'[webhooks.acme]\nurl = "{receiver.url}"\nsecret = "plain-secret"\n'
    )
    app = make_app(keys=str(keys))
    for name in ("beta", "acme"):
        api = in_process(app, headers={"Authorization": f"Bearer sk-{name}-000000000000"})
        run_to_end(api, create_job(api, capitals(20), model="ada")["id"])
    assert app.state.core.webhooks.wait_idle(10)
    [(headers, body)] = receiver.deliveries
    event = openai.OpenAI(api_key="x", base_url="http://unused.invalid").webhooks.unwrap(
        body, headers, secret="plain-secret"
    )
    assert event.type == "fine_tuning.job.succeeded"


def test_emit_without_an_endpoint_is_an_envelope(make_app: Callable[..., Starlette]) -> None:
    api = in_process(make_app())
    response = api.post(control_url(api, "/webhooks"), json={"type": "fine_tuning.job.failed", "job": "ftjob-1"})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        "No webhook endpoint for organisation 'personal': start ftemu with --webhook-url."
    )


def test_signature_is_standard_webhooks() -> None:
    # Standard Webhooks' own test vector (standard-webhooks spec, "Signature scheme").
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    assert sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == (
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )
