"""The `ftemu` fixture's control-plane helpers: `ftemu.faults`, `ftemu.journal` and `ftemu.outcome(...)`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx2 as httpx

ControlURL = Callable[[str], str]


def _json(response: httpx.Response) -> Any:
    if response.status_code != 200:
        raise AssertionError(
            f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
        )
    return response.json()


class Faults:
    """`ftemu.faults.add(method="GET", path="/v1/models", status=429, headers={"retry-after-ms": "20"})`."""

    def __init__(self, http: Callable[[], httpx.Client], url: ControlURL) -> None:
        self._http = http
        self._url = url

    def add(self, **fault: Any) -> dict[str, Any]:
        """One fault rule (fields as `POST /_emulator/faults` takes them); returns it with its `id`."""
        created: dict[str, Any] = _json(self._http().post(self._url("/faults"), json=fault))
        return created

    def list(self) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = _json(self._http().get(self._url("/faults")))["data"]
        return data

    def remove(self, fault_id: str) -> None:
        _json(self._http().delete(self._url(f"/faults/{fault_id}")))

    def clear(self) -> None:
        _json(self._http().delete(self._url("/faults")))


class Journal:
    """`ftemu.journal()` -> the requests so far, oldest first; `ftemu.journal(method="POST", path="/v1/files")`."""

    def __init__(self, http: Callable[[], httpx.Client], url: ControlURL) -> None:
        self._http = http
        self._url = url

    def __call__(self, **filters: Any) -> list[dict[str, Any]]:
        params = {name: str(value) for name, value in filters.items() if value is not None}
        data: list[dict[str, Any]] = _json(self._http().get(self._url("/requests"), params=params))["data"]
        return data

    def clear(self) -> None:
        _json(self._http().delete(self._url("/requests")))


def set_outcome(http: httpx.Client, url: ControlURL, **outcome: Any) -> dict[str, Any]:
    """`POST /_emulator/outcomes`: `job=ID`, `next_job=True` or a rule (`suffix="fail-at-*"`), plus the outcome."""
    created: dict[str, Any] = _json(http.post(url("/outcomes"), json=outcome))
    return created
