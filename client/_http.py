"""The transport under every call: base URL and key resolution, headers, bounded retries, SSE reading."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx

from client.errors import APIConnectionError, APITimeoutError, from_response, from_stream_payload

DEFAULT_BASE_URL = "https://api.openai.com/v1"
BASE_URL_VARIABLES = ("FTEMU_API_BASE", "OPENAI_API_BASE", "OPENAI_BASE_URL")
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT = frozenset({"GET", "HEAD", "DELETE"})
MAX_RETRY_AFTER = 60.0
USER_AGENT = "ftemu-client/0.1.0"


def resolve_base_url(base_url: str | None, http: httpx.Client | None, environ: Mapping[str, str]) -> str:
    """The argument, else the injected client's base URL, else the first set variable, else OpenAI's."""
    if base_url:
        return base_url.rstrip("/")
    if http is not None and str(http.base_url) not in ("", "/"):
        return str(http.base_url).rstrip("/")
    for name in BASE_URL_VARIABLES:
        if environ.get(name):
            return environ[name].rstrip("/")
    return DEFAULT_BASE_URL


def quote_id(value: str) -> str:
    """Path ids are percent-encoded (`curie:ft-x` -> `curie%3Aft-x`), as the real clients do."""
    return quote(value, safe="")


def retry_after(response: httpx.Response) -> float | None:
    """Seconds the server asked us to wait (`retry-after-ms`, `Retry-After` seconds or HTTP date)."""
    milliseconds = response.headers.get("retry-after-ms")
    if milliseconds:
        try:
            return float(milliseconds) / 1000
        except ValueError:
            pass
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return max(0.0, float(parsedate_to_datetime(value).timestamp()) - time.time())
    except (TypeError, ValueError):
        return None


def backoff(attempt: int) -> float:
    """0.5 s, 1 s, 2 s ... capped at 8 s, with up to 25% jitter downwards."""
    return min(8.0, 0.5 * 2.0**attempt) * (1 - 0.25 * random.random())


class Transport:
    """Sends requests with the client's headers; retries 429/5xx and connection failures, boundedly."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str | None,
        organization: str | None,
        http: httpx.Client | None,
        max_retries: int = 2,
        timeout: float = 600.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url
        self.api_key = api_key
        self.organization = organization
        self._owned = http is None
        self.http = http or httpx.Client(timeout=timeout)
        self.max_retries = max_retries
        self.sleep = sleep

    def headers(self) -> dict[str, str]:
        headers = {"User-Agent": USER_AGENT}
        if self.api_key is not None:
            headers["Authorization"] = f"Bearer {self.api_key}"
        if self.organization:
            headers["OpenAI-Organization"] = self.organization
        return headers

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def _send(self, method: str, path: str, stream: bool, **kwargs: Any) -> httpx.Response:
        attempt = 0
        while True:
            request = self.http.build_request(method, self.url(path), headers=self.headers(), **kwargs)
            try:
                response = self.http.send(request, stream=stream)
            except httpx.TransportError as exc:
                unsent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
                if attempt < self.max_retries and (unsent or method in IDEMPOTENT):
                    self.sleep(backoff(attempt))
                    attempt += 1
                    continue
                kind = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
                raise kind(f"Error communicating with {self.base_url}: {exc}") from exc
            if response.status_code in RETRY_STATUSES and attempt < self.max_retries:
                wait = retry_after(response)
                if wait is None or wait <= MAX_RETRY_AFTER:
                    response.close()
                    self.sleep(backoff(attempt) if wait is None else wait)
                    attempt += 1
                    continue
            if response.status_code >= 400:
                raise _error(response)
            return response

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """The parsed JSON body of a successful response."""
        response = self._send(method, path, False, **kwargs)
        if response.status_code == 204 or not response.content:
            return {}
        try:
            return response.json()
        except ValueError:
            raise APIConnectionError(f"HTTP code {response.status_code} from API ({response.text[:200]!r})") from None

    def request_bytes(self, method: str, path: str, **kwargs: Any) -> bytes:
        return self._send(method, path, False, **kwargs).content

    def open_stream(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A successful streamed response, opened now (errors raise here); the caller closes it."""
        return self._send(method, path, True, **kwargs)

    @contextmanager
    def stream(self, method: str, path: str, **kwargs: Any) -> Iterator[httpx.Response]:
        response = self._send(method, path, True, **kwargs)
        try:
            yield response
        finally:
            response.close()

    def close(self) -> None:
        if self._owned:
            self.http.close()


def _error(response: httpx.Response) -> Exception:
    if not response.is_closed:
        response.read()
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    return from_response(response.status_code, body, response.text)


class EventSource:
    """The `data:` payloads of a server-sent event stream; `done` tells whether `data: [DONE]` arrived."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.done = False

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if "text/event-stream" not in self.response.headers.get("content-type", ""):
            body = json.loads(self.response.read() or b"{}")
            if isinstance(body, dict) and "error" in body:
                raise from_stream_payload(body)
            raise APIConnectionError("Expected an event stream (text/event-stream) but got a JSON document")
        try:
            for line in self.response.iter_lines():
                if not line.startswith("data:"):
                    continue
                payload = line[5:].removeprefix(" ")
                if payload.strip() == "[DONE]":
                    self.done = True
                    return
                data = json.loads(payload)
                if isinstance(data, dict) and "error" in data:
                    raise from_stream_payload(data)
                yield data
        except httpx.TransportError as exc:
            raise APIConnectionError(f"The event stream broke: {exc}") from exc
