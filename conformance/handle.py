"""The `ftemu` fixture's handle: a clean target per test, its clients, and moving time or waiting for jobs."""

from __future__ import annotations

import json
import time
from collections.abc import Collection, Iterator
from typing import TYPE_CHECKING, Any

import httpx2 as httpx

from conformance.control import Faults, Journal, set_outcome
from conformance.targets import Instance

if TYPE_CHECKING:
    import openai

TERMINAL = frozenset({"succeeded", "failed", "cancelled"})


class Ftemu:
    """One test's view of the target: `http` (checked against the spec), `base_url`, and the control plane."""

    def __init__(self, instance: Instance) -> None:
        self.instance = instance
        self.faults = Faults(lambda: self.http, instance.control_url)
        self.journal = Journal(lambda: self.http, instance.control_url)
        self._closing: list[Any] = []

    @property
    def http(self) -> httpx.Client:
        return self.instance.http

    @property
    def base_url(self) -> str:
        """A real socket URL for your own tools (the in-process target starts serving on first use)."""
        return self.instance.base_url

    @property
    def api_key(self) -> str:
        return self.instance.options.key

    @property
    def emulator(self) -> bool:
        """True when the target has ftemu's /_emulator control plane."""
        return self.instance.emulator

    @property
    def manual_clock(self) -> bool:
        clock = self.instance.clock
        return clock is not None and clock["kind"] == "manual"

    def _control(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        if not self.emulator:
            raise RuntimeError("this target has no /_emulator control plane")
        response = self.http.post(self.instance.control_url(path), json=body or {})
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def reset(self) -> None:
        """Forget every file, job and model (and rewind a manual clock)."""
        self._control("/reset")

    def advance(self, seconds: float) -> dict[str, Any]:
        """Move a manual clock forward; due transitions happen on the way."""
        return self._control("/clock/advance", {"seconds": seconds})

    def outcome(self, **outcome: Any) -> dict[str, Any]:
        """Script a job outcome: `job=ID`, `next_job=True` or a rule such as `suffix="fail-at-40"`, with e.g.
        `fail_at_step=40, code="...", message="..."`, `stay_queued=True`, `speed=0.5`, `not_ready_seconds=120`."""
        return set_outcome(self.http, self.instance.control_url, **outcome)

    def sdk(self, *, socket: bool = False, **options: Any) -> openai.OpenAI:
        """The current SDK on this target: in-process (an httpx2 transport over the app, no socket) unless
        `socket=True` or the target is not in-process. SDK defaults (retries included) unless overridden."""
        import openai

        http = self.instance.sdk_http(socket)
        client = openai.OpenAI(api_key=self.api_key, base_url=str(http.base_url), http_client=http, **options)
        self._closing.append(client)
        return client

    def async_sdk(self, *, socket: bool = False, **options: Any) -> openai.AsyncOpenAI:
        """The async SDK client, the same way (close it with `await client.close()`, or leave it to the fixture)."""
        import openai

        http = self.instance.sdk_async_http(socket)
        client = openai.AsyncOpenAI(api_key=self.api_key, base_url=str(http.base_url), http_client=http, **options)
        self._closing.append(http)
        return client

    def close(self) -> None:
        """Close the SDK clients made for this test (the fixture calls it)."""
        for client in self._closing:
            if hasattr(client, "close") and not isinstance(client, httpx.AsyncClient):
                client.close()
        self._closing.clear()

    def fail(self, fine_tune_id: str, message: str = "") -> dict[str, Any]:
        """Make an unfinished job fail now (scripted failure)."""
        return self._control(f"/fine-tunes/{fine_tune_id}/fail", {"message": message} if message else {})

    def upload(self, data: bytes, name: str = "train.jsonl", purpose: str = "fine-tune") -> dict[str, Any]:
        response = self.http.post("/files", files={"file": (name, data)}, data={"purpose": purpose})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def fine_tune(self, fine_tune_id: str) -> dict[str, Any]:
        response = self.http.get(f"/fine-tunes/{fine_tune_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def wait_for_fine_tune(
        self,
        fine_tune_id: str,
        statuses: Collection[str] = TERMINAL,
        *,
        step: float = 1.0,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Until the job reaches one of `statuses`: a manual clock is advanced `step` simulated seconds at a time;
        any other target is polled in real time (every 0.2 s on an emulator, 5 s elsewhere) up to `timeout`
        (default --target-timeout) seconds, simulated or real."""
        limit = timeout if timeout is not None else self.instance.options.timeout
        manual = self.manual_clock
        interval = step if manual else 0.2 if self.emulator else 5.0
        waited = 0.0
        while True:
            job = self.fine_tune(fine_tune_id)
            if job["status"] in statuses:
                return job
            if waited >= limit or job["status"] in TERMINAL:
                raise AssertionError(f"{fine_tune_id} is {job['status']}, not one of {sorted(statuses)}")
            if manual:
                self.advance(step)
            else:
                time.sleep(interval)
            waited += interval

    def stream_events(self, fine_tune_id: str) -> list[dict[str, Any] | str]:
        """GET .../events?stream=true read to the end: each `data:` payload (JSON decoded, or "[DONE]")."""
        with self.http.stream("GET", f"/fine-tunes/{fine_tune_id}/events", params={"stream": "true"}) as response:
            assert response.status_code == 200, response.read()
            assert "text/event-stream" in response.headers["content-type"]
            return list(self.sse_payloads(response.iter_lines(), "FineTuneEvent"))

    def sse_payloads(self, lines: Iterator[str], component: str) -> Iterator[dict[str, Any] | str]:
        """The `data:` payloads of a server-sent-event stream, each checked against a spec component."""
        spec = self.instance.spec
        for line in lines:
            if not line.startswith("data:"):
                continue
            payload = line[len("data:") :].removeprefix(" ")
            if payload.strip() == "[DONE]":
                yield "[DONE]"
                continue
            event = json.loads(payload)
            if spec is not None:
                spec.validate_component(component, event, f"stream payload ({component})")
            yield event
