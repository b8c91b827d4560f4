"""Webhooks: events shaped and signed as the current spec says (Standard Webhooks), delivered with retries.

A job kind calls `Webhooks.emit(organization_name, "fine_tuning.job.succeeded", job_id, created_at)`; a
background thread POSTs `{"id": "evt_…", "object": "event", "created_at", "type", "data": {"id": job_id}}` to the
organisation's URL with `webhook-id`, `webhook-timestamp` (wall time: receivers check it against theirs) and
`webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed with the secret (a `whsec_` secret
is base64-decoded first). Anything but a 2xx is retried after each delay in `retry_delays`; every attempt is
written to the journal (direction "outgoing").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import queue
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulator.core.clock import Clock, monotonic, wall_time
from emulator.core.journal import Entry, Journal
from emulator.core.orgs import read_table

if TYPE_CHECKING:
    from emulator.settings import Settings

JOB_EVENTS = ("fine_tuning.job.succeeded", "fine_tuning.job.failed", "fine_tuning.job.cancelled")
RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0)
TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class Endpoint:
    """Where one organisation's webhooks go, and the secret they are signed with."""

    url: str
    secret: str


def signing_key(secret: str) -> bytes:
    return base64.b64decode(secret[len("whsec_") :]) if secret.startswith("whsec_") else secret.encode()


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value."""
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(signing_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


@dataclass
class Delivery:
    endpoint: Endpoint
    organization: str
    webhook_id: str
    body: bytes
    attempt: int = 0


class Webhooks:
    """The delivery worker (a daemon thread, started on the first event); endpoints per organisation."""

    def __init__(
        self,
        default: Endpoint | None,
        per_organization: dict[str, Endpoint],
        journal: Journal,
        now: Callable[[], float],
        seed: int | None,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
    ) -> None:
        self.default = default
        self.per_organization = per_organization
        self.journal = journal
        self.now = now
        self.retry_delays = retry_delays
        self._random = random.Random(seed)
        self._queue: queue.Queue[Delivery | None] = queue.Queue()
        self._pending = 0
        self._idle = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = threading.Event()

    def endpoint(self, organization: str) -> Endpoint | None:
        return self.per_organization.get(organization, self.default)

    def emit(self, organization: str, event_type: str, job_id: str, created_at: float) -> dict[str, Any] | None:
        """Queue one event for the organisation's endpoint (None when it has none)."""
        endpoint = self.endpoint(organization)
        if endpoint is None:
            return None
        event = {
            "id": "evt_" + self._hex(),
            "object": "event",
            "created_at": int(created_at),
            "type": event_type,
            "data": {"id": job_id},
        }
        body = json.dumps(event, separators=(",", ":")).encode()
        self._enqueue(Delivery(endpoint, organization, "wh_" + self._hex(), body))
        return event

    def _hex(self) -> str:
        return f"{self._random.getrandbits(128):032x}"

    def _enqueue(self, delivery: Delivery) -> None:
        with self._idle:
            self._pending += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="ftemu-webhooks", daemon=True)
                self._thread.start()
        self._queue.put(delivery)

    def wait_idle(self, timeout: float) -> bool:
        """Until every queued delivery has succeeded or used its last retry (False on timeout)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def close(self) -> None:
        self._closed.set()
        self._queue.put(None)

    def _run(self) -> None:
        while True:
            delivery = self._queue.get()
            if delivery is None or self._closed.is_set():
                return
            if not self._deliver(delivery) and delivery.attempt < len(self.retry_delays):
                delay = self.retry_delays[delivery.attempt]
                delivery.attempt += 1
                timer = threading.Timer(delay, self._queue.put, (delivery,))
                timer.daemon = True
                timer.start()
                continue
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()

    def _deliver(self, delivery: Delivery) -> bool:
        timestamp = int(wall_time())
        headers = {
            "content-type": "application/json",
            "user-agent": "OpenAI/1.0 (+https://platform.openai.com/docs/webhooks)",
            "webhook-id": delivery.webhook_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(delivery.endpoint.secret, delivery.webhook_id, timestamp, delivery.body),
        }
        # Imported here: urllib.request brings http.client and ssl, ~10 ms of every start for a server that may
        # never deliver a webhook.
        import urllib.error
        import urllib.request

        started = monotonic()
        status: int | None = None
        request = urllib.request.Request(delivery.endpoint.url, delivery.body, headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError:
            status = None
        ok = status is not None and 200 <= status < 300
        self.journal.record(
            Entry(
                seq=0,
                created_at=self.now(),
                method="POST",
                path=delivery.endpoint.url,
                organization=delivery.organization,
                body={
                    "content_type": "application/json",
                    "bytes": len(delivery.body),
                    "json": json.loads(delivery.body),
                },
                status=status,
                latency_ms=(monotonic() - started) * 1000,
                outcome="complete" if ok else "failed",
                direction="outgoing",
                extra={"webhook_id": delivery.webhook_id, "attempt": delivery.attempt + 1},
            )
        )
        return ok


def open_webhooks(settings: Settings, journal: Journal, clock: Clock) -> Webhooks | None:
    """The delivery worker for --webhook-url and the keys file's `webhooks` table (None when neither is set)."""
    default = Endpoint(settings.webhook_url, settings.webhook_secret or "") if settings.webhook_url else None
    per_organization = load_endpoints(Path(settings.keys)) if settings.keys else {}
    if default is None and not per_organization:
        return None
    return Webhooks(default, per_organization, journal, clock.now, settings.seed)


def load_endpoints(path: Path) -> dict[str, Endpoint]:
    """The keys file's `webhooks` table: organisation name -> {url, secret}."""
    table = read_table(path).get("webhooks", {})
    if not isinstance(table, dict):
        raise ValueError(f"{path}: 'webhooks' must be a table of organisation -> {{url, secret}}")
    endpoints = {}
    for name, entry in table.items():
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("url"), str)
            or not isinstance(entry.get("secret"), str)
        ):
            raise ValueError(f"{path}: the webhook of organisation {name!r} needs a 'url' and a 'secret'")
        endpoints[name] = Endpoint(entry["url"], entry["secret"])
    return endpoints
