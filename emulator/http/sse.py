"""Server-sent events as the API frames them: `data: {compact JSON}` blocks, `data: [DONE]` at the end."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

from starlette.responses import StreamingResponse

DONE = "data: [DONE]\n\n"


def sse_data(body: Any) -> str:
    """One event: the body as compact JSON."""
    return f"data: {json.dumps(body, separators=(',', ':'))}\n\n"


def event_stream(events: Iterator[str] | AsyncIterator[str]) -> StreamingResponse:
    """A streamed response of already framed events, never cached."""
    return StreamingResponse(events, media_type="text/event-stream", headers={"cache-control": "no-cache"})
