"""The fine_tuning namespace: /v1/fine_tuning/jobs (create, list, retrieve, cancel, pause, resume, events,
checkpoints) and a follow that polls the events, oldest first, until the job is over."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from client._http import RETRY_STATUSES, Transport, backoff, quote_id
from client.errors import APIConnectionError, APIStatusError

TERMINAL = ("succeeded", "failed", "cancelled")
Job = dict[str, Any]
Events = list[dict[str, Any]]
POLL_SECONDS = 1.0
MAX_FAILED_POLLS = 5


def _given(**values: Any) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


class FineTuningJobs:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create(self, model: str, training_file: str, **fields: Any) -> Job:
        """POST /fine_tuning/jobs; only the given fields are sent (validation_file, suffix, seed, method...)."""
        body = {"model": model, "training_file": training_file, **_given(**fields)}
        job: Job = self._t.request("POST", "fine_tuning/jobs", json=body)
        return job

    def list(self, *, after: str | None = None, limit: int | None = None) -> dict[str, Any]:
        page: dict[str, Any] = self._t.request("GET", "fine_tuning/jobs", params=_given(after=after, limit=limit))
        return page

    def _job(self, method: str, job_id: str, action: str = "") -> Job:
        job: Job = self._t.request(method, f"fine_tuning/jobs/{quote_id(job_id)}{action}")
        return job

    def retrieve(self, job_id: str) -> Job:
        return self._job("GET", job_id)

    def cancel(self, job_id: str) -> Job:
        return self._job("POST", job_id, "/cancel")

    def pause(self, job_id: str) -> Job:
        return self._job("POST", job_id, "/pause")

    def resume(self, job_id: str) -> Job:
        return self._job("POST", job_id, "/resume")

    def list_events(self, job_id: str, *, after: str | None = None, limit: int | None = None) -> dict[str, Any]:
        path = f"fine_tuning/jobs/{quote_id(job_id)}/events"
        page: dict[str, Any] = self._t.request("GET", path, params=_given(after=after, limit=limit))
        return page

    def list_checkpoints(self, job_id: str, *, after: str | None = None, limit: int | None = None) -> dict[str, Any]:
        path = f"fine_tuning/jobs/{quote_id(job_id)}/checkpoints"
        page: dict[str, Any] = self._t.request("GET", path, params=_given(after=after, limit=limit))
        return page

    def new_events(self, job_id: str, seen: str | None) -> Events:
        """The events newer than `seen` (all when None), oldest first: pages newest-first until `seen`."""
        found: Events = []
        after = None
        while True:
            page = self.list_events(job_id, after=after, limit=100)
            for event in page["data"]:
                if event["id"] == seen:
                    return found[::-1]
                found.append(event)
            if not page["has_more"] or not page["data"]:
                return found[::-1]
            after = page["data"][-1]["id"]

    def _poll(self, job_id: str, seen: str | None) -> tuple[str, Events]:
        return self.retrieve(job_id)["status"], self.new_events(job_id, seen)

    def follow(
        self, job_id: str, *, poll: float = POLL_SECONDS, max_failed_polls: int = MAX_FAILED_POLLS
    ) -> Iterator[dict[str, Any]]:
        """Every event of the job, oldest first, polling until it is over (the events endpoint is not a stream).

        A poll whose requests still fail after the transport's retries (a 429 or 5xx storm, a broken response)
        yields nothing and is tried again after a backoff: events are yielded only from a complete poll, so each
        exactly once. `max_failed_polls` failures in a row raise the last error.
        """
        seen: str | None = None
        failures = 0
        while True:
            try:
                status, events = self._poll(job_id, seen)
            except (APIConnectionError, APIStatusError) as error:
                retriable = not isinstance(error, APIStatusError) or error.status in RETRY_STATUSES
                if not retriable or failures >= max_failed_polls:
                    raise
                self._t.sleep(backoff(failures))
                failures += 1
                continue
            failures = 0
            for event in events:
                seen = event["id"]
                yield event
            if status in TERMINAL:
                return
            self._t.sleep(poll)


class FineTuning:
    def __init__(self, transport: Transport) -> None:
        self.jobs = FineTuningJobs(transport)
