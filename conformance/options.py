"""The kit's target options (kept free of heavy imports: the plugin reads them at start-up)."""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_KEY = "sk-ftemu-conformance-0123456789"
REAL_API_URL = "https://api.openai.com/v1"


@dataclass(frozen=True)
class TargetOptions:
    """The plugin's command-line options, in one place."""

    url: str | None = None
    api_key: str | None = None
    server: bool = False
    real_api: bool = False
    allow_spend: float | None = None
    timeout: float = 900.0

    @property
    def kind(self) -> str:
        if self.real_api:
            return "real-api"
        if self.url:
            return "url"
        return "server" if self.server else "in-process"

    @property
    def remote(self) -> bool:
        return self.kind in ("url", "real-api")

    @property
    def remote_url(self) -> str:
        return (self.url or REAL_API_URL).rstrip("/")

    @property
    def key(self) -> str:
        if self.api_key:
            return self.api_key
        if self.remote:
            return os.environ.get("OPENAI_API_KEY", DEFAULT_KEY)
        return DEFAULT_KEY

    def describe(self) -> str:
        if self.kind == "real-api":
            budget = f"spend limit ${self.allow_spend:.2f}" if self.allow_spend else "no spending allowed"
            return f"the real OpenAI API at {self.remote_url} ({budget})"
        if self.kind == "url":
            return f"the server at {self.remote_url}"
        if self.kind == "server":
            return "ftemu over a socket (emulator.testing.LiveServer on a free port)"
        return "ftemu in-process (httpx2 over emulator.create_app, no socket)"
