"""The baseline: a bare Starlette endpoint returning a small JSON list, under the same uvicorn settings."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

MODELS = {
    "object": "list",
    "data": [{"id": name, "object": "model"} for name in ("ada", "babbage", "curie", "davinci")],
}


async def models(request: Request) -> JSONResponse:
    return JSONResponse(MODELS)


app = Starlette(routes=[Route("/v1/models", models)])
