"""Checkpoint permissions: share a checkpoint's model with projects, list and revoke (modern-fine-tuning.md A1).

The real endpoints need an admin key; ftemu has no key roles, so any key of the organisation may call them (ours).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from emulator.core.container import Core
from emulator.core.errors import invalid_request, not_found
from emulator.http import params
from emulator.http.deps import authorized
from emulator.http.pagination import page_body
from emulator.http.routing import Router
from emulator.store import Organization
from emulator.store.job_records import CheckpointPermissionRecord
from emulator.v1.jobs import limit_param
from emulator.v1.objects import permission_object

router = Router()
ORDERS = ("ascending", "descending")


def _checkpoint_model(app: Core, org: Organization, name: str) -> str:
    app.catch_up(org)
    record = app.store.get_model(org.id, name)
    if record is None or record.checkpoint_step is None:
        raise not_found(f"No such checkpoint: {name}", param="fine_tuned_model_checkpoint")
    return record.id


def _project_ids(body: dict[str, Any]) -> list[str]:
    extra = sorted(set(body) - {"project_ids"})
    if extra:
        raise invalid_request(f"Additional properties are not allowed ('{extra[0]}' was unexpected)", param=extra[0])
    value = body.get("project_ids")
    if not isinstance(value, list) or not value or not all(isinstance(item, str) and item for item in value):
        raise invalid_request("'project_ids' must be a non-empty list of project ids.", param="project_ids")
    return value


@router.post("/fine_tuning/checkpoints/{checkpoint:path}/permissions")
async def create_checkpoint_permissions(request: Request, checkpoint: str) -> dict[str, Any]:
    app, org = authorized(request)
    model = _checkpoint_model(app, org, checkpoint)
    project_ids = _project_ids(await params.json_body(request))
    created = []
    with app.store.transaction():
        for project_id in project_ids:
            permission = CheckpointPermissionRecord(0, app.store.next_id("cp_"), model, project_id, app.now_seconds())
            app.store.insert_checkpoint_permission(permission)
            created.append(permission_object(permission))
    return page_body(created, False, with_ids=True)


@router.get("/fine_tuning/checkpoints/{checkpoint:path}/permissions")
async def list_checkpoint_permissions(request: Request, checkpoint: str) -> dict[str, Any]:
    app, org = authorized(request)
    model = _checkpoint_model(app, org, checkpoint)
    query = request.query_params
    order = query.get("order", "descending")
    if order not in ORDERS:
        raise invalid_request(f"{order!r} is not one of {list(ORDERS)} - 'order'", param="order")
    permissions = app.store.list_checkpoint_permissions(model)
    if order == "descending":
        permissions.reverse()
    if "project_id" in query:
        permissions = [p for p in permissions if p.project_id == query["project_id"]]
    ids = [p.id for p in permissions]
    if query.get("after") in ids:
        permissions = permissions[ids.index(query["after"]) + 1 :]
    limit = limit_param(request, 10)
    return page_body([permission_object(p) for p in permissions[:limit]], len(permissions) > limit, with_ids=True)


@router.delete("/fine_tuning/checkpoints/{checkpoint:path}/permissions/{permission_id}")
async def delete_checkpoint_permission(request: Request, checkpoint: str, permission_id: str) -> dict[str, Any]:
    app, org = authorized(request)
    model = _checkpoint_model(app, org, checkpoint)
    if not app.store.delete_checkpoint_permission(model, permission_id):
        raise not_found(f"No such checkpoint permission: {permission_id}", param="permission_id")
    return {"id": permission_id, "object": "checkpoint.permission", "deleted": True}
