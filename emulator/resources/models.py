"""The models resource (§2.11-2.13): the four base models and the organisation's fine-tuned models."""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from emulator.core import ids
from emulator.core.catalogue import BASE_MODELS, MODERN_MODELS, PERMISSION_CREATED, BaseModel, ModernModel
from emulator.core.errors import APIError, not_found
from emulator.http.deps import authorized, json_response
from emulator.http.pagination import json_list
from emulator.http.routing import Router
from emulator.store import ModelRecord
from emulator.store.records import model_record_of

router = Router()


def _permission(permission_id: str, created: int, organization: str, tuned: bool) -> dict[str, Any]:
    return {
        "id": permission_id,
        "object": "model_permission",
        "created": created,
        "allow_create_engine": tuned,
        "allow_sampling": True,
        "allow_logprobs": True,
        "allow_search_indices": False,
        "allow_view": True,
        "allow_fine_tuning": tuned,
        "organization": organization,
        "group": None,
        "is_blocking": False,
    }


def base_model_object(model: BaseModel) -> dict[str, Any]:
    permission_id = "modelperm-" + ids.draw(0, sum(map(ord, model.id)))
    return {
        "id": model.id,
        "object": "model",
        "created": model.created,
        "owned_by": "openai",
        "permission": [_permission(permission_id, PERMISSION_CREATED, "*", tuned=False)],
        "root": model.id,
        "parent": None,
    }


def modern_base_model_object(model: ModernModel) -> dict[str, Any]:
    """A base model of today's API (chat or completion): the modern shape, without permissions."""
    return {"id": model.id, "object": "model", "created": model.created, "owned_by": model.owned_by}


def tuned_model_object(record: ModelRecord) -> dict[str, Any]:
    """A fine-tuning job's model (`ftjob-`) has today's shape; a legacy fine-tune's keeps the 2023 one."""
    if record.fine_tune_id.startswith("ftjob-"):
        return {"id": record.id, "object": "model", "created": record.created, "owned_by": record.organization_id}
    return {
        "id": record.id,
        "object": "model",
        "created": record.created,
        "owned_by": record.organization_id,
        "permission": [_permission(record.permission_id, record.created, record.organization_id, tuned=True)],
        "root": record.root,
        "parent": record.parent,
    }


@lru_cache(maxsize=65_536)
def tuned_model_json(row: tuple[Any, ...]) -> bytes:
    """A listed model's JSON, from its raw row of MODEL_COLUMNS: encoded once (a deleted one is not listed)."""
    return json.dumps(tuned_model_object(model_record_of(row)), separators=(",", ":")).encode()


def model_not_found(model: str) -> APIError:
    return not_found(f"The model '{model}' does not exist", param="model", code="model_not_found")


def _joined(objects: Iterable[dict[str, Any]]) -> bytes:
    """The objects' JSON, comma-separated as a list shows them."""
    return b",".join(json.dumps(item, separators=(",", ":")).encode() for item in objects)


# The base models never change: their JSON is encoded once, and each list response only encodes tuned models.
# Today's (chat and completion, aliases and snapshots) follow the legacy four, in catalogue order.
BASE_MODELS_JSON = _joined(base_model_object(m) for m in BASE_MODELS.values())
MODERN_MODELS_JSON = _joined(modern_base_model_object(m) for m in MODERN_MODELS.values())


@router.get("/models")
async def list_models(request: Request) -> Response:
    app, org = authorized(request)
    app.catch_up(org)
    # A checkpoint's model answers by name (retrieve, chat) but is listed with its job's checkpoints, not here.
    tuned = [tuned_model_json(row) for row in app.store.list_model_rows(org.id)]
    return json_list([BASE_MODELS_JSON, MODERN_MODELS_JSON, *tuned])


@router.get("/models/{model:path}")
async def retrieve_model(model: str, request: Request) -> JSONResponse:
    app, org = authorized(request)
    if model in BASE_MODELS:
        return json_response(base_model_object(BASE_MODELS[model]))
    if model in MODERN_MODELS:
        return json_response(modern_base_model_object(MODERN_MODELS[model]))
    app.catch_up(org)
    record = app.store.get_model(org.id, model)
    if record is None or app.outcomes.model_not_ready(record, app.now()):
        raise model_not_found(model)
    return json_response(tuned_model_object(record))


@router.delete("/models/{model:path}")
async def delete_model(model: str, request: Request) -> JSONResponse:
    app, org = authorized(request)
    if model in BASE_MODELS or model in MODERN_MODELS:
        raise APIError(
            403,
            f"You have insufficient permissions to delete the base model '{model}'; only "
            "fine-tuned models your organization owns can be deleted.",
            param="model",
        )
    app.catch_up(org)
    record = app.store.get_model(org.id, model)
    if record is None:
        raise model_not_found(model)
    app.store.delete_model(record.id)
    return json_response({"id": record.id, "object": "model", "deleted": True})
