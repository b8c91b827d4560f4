"""Client: the entry point of the library, holding the transport and the four resource namespaces."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from types import TracebackType

import httpx

from client._http import Transport, resolve_base_url
from client.chat import Chat
from client.fine_tuning import FineTuning
from client.resources import Completions, Files, FineTunes, Models


class Client:
    """`Client()` talks to $FTEMU_API_BASE / $OPENAI_API_BASE / $OPENAI_BASE_URL (else api.openai.com).

    Pass `http=` an httpx.Client (e.g. starlette's TestClient over the app) to run without sockets; its
    base URL is used when `base_url` is not given.
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        organization: str | None = None,
        *,
        http: httpx.Client | None = None,
        max_retries: int = 2,
        timeout: float = 600.0,
        sleep: Callable[[float], None] = time.sleep,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        env = os.environ if environ is None else environ
        self.base_url = resolve_base_url(base_url, http, env)
        self.api_key = api_key if api_key is not None else env.get("OPENAI_API_KEY")
        self.organization = organization if organization is not None else env.get("OPENAI_ORGANIZATION")
        self.transport = Transport(
            base_url=self.base_url,
            api_key=self.api_key,
            organization=self.organization,
            http=http,
            max_retries=max_retries,
            timeout=timeout,
            sleep=sleep,
        )
        self.files = Files(self.transport)
        self.fine_tunes = FineTunes(self.transport)
        self.models = Models(self.transport)
        self.completions = Completions(self.transport)
        self.chat = Chat(self.transport)
        self.fine_tuning = FineTuning(self.transport)

    def close(self) -> None:
        """Close the HTTP client if this Client created it (an injected one stays open)."""
        self.transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()
