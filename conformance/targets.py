"""What the kit's tests talk to: ftemu in-process or live, any URL, or the real API; pooled by settings."""

from __future__ import annotations

import functools
import ssl
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import httpx2 as httpx

from conformance.options import TargetOptions
from conformance.schema import Spec

if TYPE_CHECKING:
    from emulator.testing import LiveServer

KIT_DEFAULTS: dict[str, Any] = {"memory": True, "clock": "manual", "speed": "instant", "seed": 7}
IN_PROCESS_URL = "http://testserver/v1"


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """One verifying SSL context for every socket client of the process: httpx2 builds a fresh one (loading the
    CA bundle, ~30 ms) for each client otherwise, and the fixtures make clients per test."""
    return httpx.create_ssl_context()


def validating_hook(spec: Spec, base_path: str) -> Callable[[httpx.Response], None]:
    """An httpx response hook that checks every response against the overlaid spec."""

    def check(response: httpx.Response) -> None:
        raw = response.request.url.raw_path.split(b"?")[0].decode("ascii", "replace")
        if not raw.startswith(base_path + "/"):
            return
        content_type = response.headers.get("content-type", "")
        streamed = "text/event-stream" in content_type
        body = None if streamed else response.read()
        spec.check_response(response.request.method, raw[len(base_path) :], response.status_code, content_type, body)

    return check


class Instance:
    """One server: in-process (served on a socket only if asked), live, or remote."""

    def __init__(self, options: TargetOptions, spec: Spec | None, settings: Mapping[str, Any]) -> None:
        self.options = options
        self.spec = spec
        self.settings = dict(settings)
        self.live: LiveServer | None = None
        self._http: httpx.Client | None = None
        self._clock_checked = False
        self._clock: dict[str, Any] | None = None
        if not options.remote:
            from emulator import Settings
            from emulator.testing import LiveServer

            self.live = LiveServer(Settings(**self.settings))
            if options.kind == "server":
                self.live.start()

    @property
    def started(self) -> bool:
        return self.live is not None and self.live.server.started

    @property
    def base_url(self) -> str:
        """A real socket URL (an in-process instance starts serving the same app on first use)."""
        if self.live is None:
            return self.options.remote_url
        if not self.started:
            self.live.start()
        return self.live.base_url

    @property
    def root_url(self) -> str:
        base = self.base_url
        return base[: -len("/v1")] if base.endswith("/v1") else base

    @property
    def http(self) -> httpx.Client:
        """The client the tests use: ASGI in-process, or HTTP; every response checked against the spec."""
        if self._http is None:
            self._http = self.new_http()
        return self._http

    def new_http(self) -> httpx.Client:
        """A fresh client on the same target (the caller closes it)."""
        headers = {"Authorization": f"Bearer {self.options.key}"}
        client: httpx.Client
        if self.options.kind == "in-process":
            from conformance.transport import SyncASGITransport

            assert self.live is not None
            # Not starlette's TestClient: it starts a thread and an event loop for every request (~3.6 ms each).
            client = httpx.Client(transport=SyncASGITransport(self.live.app), base_url=IN_PROCESS_URL, headers=headers)
        else:
            client = httpx.Client(
                base_url=self.base_url, headers=headers, timeout=self.options.timeout, verify=shared_ssl_context()
            )
        if self.spec is not None:
            base_path = httpx.URL(str(client.base_url)).path.rstrip("/")
            client.event_hooks = {"request": [], "response": [validating_hook(self.spec, base_path)]}
        return client

    def sdk_http(self, socket: bool = False) -> httpx.Client:
        """An httpx2 client for the SDK: in-process over the app (streaming), or over the socket."""
        if socket or self.options.kind != "in-process":
            return httpx.Client(base_url=self.base_url, timeout=self.options.timeout, verify=shared_ssl_context())
        from conformance.transport import SyncASGITransport

        assert self.live is not None
        return httpx.Client(transport=SyncASGITransport(self.live.app), base_url=IN_PROCESS_URL)

    def sdk_async_http(self, socket: bool = False) -> httpx.AsyncClient:
        if socket or self.options.kind != "in-process":
            return httpx.AsyncClient(base_url=self.base_url, timeout=self.options.timeout, verify=shared_ssl_context())
        from conformance.transport import ASGITransport

        assert self.live is not None
        return httpx.AsyncClient(transport=ASGITransport(self.live.app), base_url=IN_PROCESS_URL)

    def control_url(self, path: str) -> str:
        """An absolute /_emulator URL (relative to the base URL's root, in-process or not)."""
        base = str(self.http.base_url).rstrip("/")
        root = base[: -len("/v1")] if base.endswith("/v1") else base
        return root + "/_emulator" + path

    @property
    def clock(self) -> dict[str, Any] | None:
        """The emulator's clock object, or None when the target has no /_emulator control plane."""
        if self._clock_checked:
            return self._clock
        self._clock_checked = True
        if self.options.kind == "real-api":
            return None
        try:
            response = self.http.get(self.control_url("/clock"))
        except httpx.HTTPError:
            return None
        self._clock = response.json() if response.status_code == 200 else None
        return self._clock

    @property
    def emulator(self) -> bool:
        return self.clock is not None

    def mismatch(self, wanted: Mapping[str, Any]) -> str | None:
        """Why a remote target cannot honour the settings a test asks for (None when it can)."""
        if not self.options.remote or not wanted:
            return None
        clock = self.clock
        if clock is None:
            return "needs ftemu's control plane" if wanted.get("clock") == "manual" else None
        fixed = sorted(set(wanted) - {"clock", "speed", "seed"})
        if fixed:
            return "needs an ftemu started with " + ", ".join(f"--{name.replace('_', '-')}" for name in fixed)
        if "clock" in wanted and clock["kind"] != wanted["clock"]:
            return f"needs --clock {wanted['clock']}; the target runs --clock {clock['kind']}"
        # Any simulated speed will do (jobs are polled), but instant and timed training differ in kind.
        if "speed" in wanted and (str(wanted["speed"]) == "instant") != (str(clock["speed"]) == "instant"):
            return f"needs --speed {wanted['speed']}; the target runs --speed {clock['speed']}"
        return None

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
        if self.live is not None:
            if self.started:
                self.live.stop()  # its lifespan closes the store
            else:
                self.live.app.state.core.close()


class Pool:
    """One instance per distinct settings (in-process/server) or the one remote target."""

    def __init__(self, options: TargetOptions, spec: Spec | None) -> None:
        self.options = options
        self.spec = spec
        self._instances: dict[tuple[tuple[str, str], ...], Instance] = {}

    def get(self, wanted: Mapping[str, Any] | None = None) -> Instance:
        settings = dict(KIT_DEFAULTS) if not self.options.remote else {}
        if not self.options.remote:
            settings.update(wanted or {})
        key = tuple(sorted((name, repr(value)) for name, value in settings.items()))
        if key not in self._instances:
            self._instances[key] = Instance(self.options, self.spec, settings)
        return self._instances[key]

    def close(self) -> None:
        for instance in self._instances.values():
            instance.close()
        self._instances.clear()
