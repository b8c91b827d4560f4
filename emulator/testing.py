"""Running ftemu inside a test process: a live uvicorn server on a free port, in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn

from emulator.app import create_app
from emulator.settings import Settings


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class LiveServer:
    """`with LiveServer(settings) as server: server.base_url` -> 'http://127.0.0.1:PORT/v1'."""

    def __init__(self, settings: Settings | None = None, *, startup_timeout: float = 10.0) -> None:
        base = settings or Settings(memory=True)
        self.settings = base.replace(port=free_port(base.host)) if base.port in (0, 8000) else base
        self.app = create_app(self.settings)
        config = uvicorn.Config(
            self.app,
            host=self.settings.host,
            port=self.settings.port,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=1,
        )
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self.server.run, name="ftemu-live-server", daemon=True)
        self._startup_timeout = startup_timeout

    @property
    def root_url(self) -> str:
        return f"http://{self.settings.host}:{self.settings.port}"

    @property
    def base_url(self) -> str:
        return self.root_url + "/v1"

    def start(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + self._startup_timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("ftemu did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
