"""The errata overlay: where the official 2023-12-22 spec is wrong or silent about the legacy API, and why.

Each entry sets one node of the spec (a JSON pointer with "/" separators; "~1" stands for "/") to a new
value. `§` numbers point at ../shared/reference/legacy-fine-tunes.md. The overlay is applied by
`conformance.schema.load_spec` before responses are checked and before `make fuzz` runs schemathesis.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ERROR = {"$ref": "#/components/schemas/ErrorResponse"}
# One server-sent event as schemathesis parses it; `data` is a JSON object or `[DONE]` (the kit checks the JSON).
SSE_EVENT = {"type": "object", "required": ["data"], "properties": {"data": {"type": "string"}}}
LEGACY_PATHS = (
    "/files",
    "/files/{file_id}",
    "/files/{file_id}/content",
    "/fine-tunes",
    "/fine-tunes/{fine_tune_id}",
    "/fine-tunes/{fine_tune_id}/cancel",
    "/fine-tunes/{fine_tune_id}/events",
    "/models",
    "/models/{model}",
    "/completions",
)
OPERATIONS = (
    "/files/get",
    "/files/post",
    "/files/{file_id}/get",
    "/files/{file_id}/delete",
    "/files/{file_id}/content/get",
    "/fine-tunes/get",
    "/fine-tunes/post",
    "/fine-tunes/{fine_tune_id}/get",
    "/fine-tunes/{fine_tune_id}/cancel/post",
    "/fine-tunes/{fine_tune_id}/events/get",
    "/models/get",
    "/models/{model}/get",
    "/models/{model}/delete",
    "/completions/post",
)


@dataclass(frozen=True)
class Erratum:
    pointer: str
    value: Any
    reason: str


def _pointer(path_and_method: str) -> str:
    path, _, method = path_and_method.rpartition("/")
    return "/paths/" + path.replace("/", "~1") + "/" + method


_ERROR_RESPONSES = [
    Erratum(
        _pointer(operation) + "/responses/default",
        {"description": "Error", "content": {"application/json": {"schema": ERROR}}},
        "The spec documents only 200s; every failure of the real API is the ErrorResponse envelope (§9.1).",
    )
    for operation in OPERATIONS
]

SCHEMAS = "/components/schemas"

ERRATA: tuple[Erratum, ...] = (
    *_ERROR_RESPONSES,
    Erratum(
        f"{SCHEMAS}/OpenAIFile/properties/status_details",
        {"type": "string", "nullable": True},
        "The real server sends `status_details: null` on every healthy file (§2.1); spec: string.",
    ),
    Erratum(
        f"{SCHEMAS}/OpenAIFile/properties/status",
        {"type": "string", "enum": ["uploaded", "processed", "pending", "error", "deleting", "deleted"]},
        "The 2023-08 spec listed six file statuses (§2.1); the 2023-12 spec cut the list to three.",
    ),
    Erratum(
        f"{SCHEMAS}/OpenAIFile/required",
        ["id", "object", "bytes", "created_at", "filename", "purpose", "status", "status_details"],
        "The real server always sends status_details, null or not (§2.1 captured objects).",
    ),
    Erratum(
        f"{SCHEMAS}/CreateFileRequest/properties/purpose/enum",
        ["fine-tune"],
        "From Jan 2023 the legacy API accepted only 'fine-tune' (§2.1, §9.2); 'assistants' is the new API.",
    ),
    Erratum(
        f"{SCHEMAS}/FineTune/properties/hyperparams/properties/batch_size",
        {"type": "integer", "nullable": True},
        "At creation batch_size is null until the job is processed (§2.6 real create response).",
    ),
    Erratum(
        f"{SCHEMAS}/FineTune/properties/hyperparams/properties/learning_rate_multiplier",
        {"type": "number", "nullable": True},
        "At creation learning_rate_multiplier is null until the job is processed (§2.6).",
    ),
    Erratum(
        f"{SCHEMAS}/FineTune/properties/hyperparams/properties/classification_n_classes",
        {"type": "integer", "nullable": True},
        "A binary job echoes classification_n_classes as null (§2.6, 2021 capture, positive class only).",
    ),
    Erratum(
        f"{SCHEMAS}/FineTune/properties/hyperparams/properties/classification_positive_class",
        {"type": "string", "nullable": True},
        "A multiclass job echoes classification_positive_class as null (§2.6).",
    ),
    Erratum(
        f"{SCHEMAS}/FineTune/properties/status",
        {"type": "string", "enum": ["pending", "running", "succeeded", "failed", "cancelled"]},
        "The spec text says `created`; every capture shows `pending` from creation until `running` (§3.1).",
    ),
    Erratum(
        f"{SCHEMAS}/FineTuneEvent/properties/level",
        {"type": "string", "enum": ["info", "warn", "error"]},
        "Spec is silent; observed `info`, and the newer API lists info|warn|error (§2.10).",
    ),
    Erratum(
        f"{SCHEMAS}/Model/properties/permission",
        {"type": "array", "items": {"$ref": "#/components/schemas/ModelPermission"}},
        "The legacy server sends a permission list the 2023-12 spec no longer documents (§2.11).",
    ),
    Erratum(
        f"{SCHEMAS}/Model/properties/root",
        {"type": "string"},
        "Sent by the legacy server, missing from the spec (§2.11).",
    ),
    Erratum(
        f"{SCHEMAS}/Model/properties/parent",
        {"type": "string", "nullable": True},
        "Sent by the legacy server, null for base models (§2.11); missing from the spec.",
    ),
    Erratum(
        f"{SCHEMAS}/ModelPermission",
        {
            "type": "object",
            "required": [
                "id",
                "object",
                "created",
                "allow_create_engine",
                "allow_sampling",
                "allow_logprobs",
                "allow_search_indices",
                "allow_view",
                "allow_fine_tuning",
                "organization",
                "group",
                "is_blocking",
            ],
            "properties": {
                "id": {"type": "string"},
                "object": {"type": "string", "enum": ["model_permission"]},
                "created": {"type": "integer"},
                "allow_create_engine": {"type": "boolean"},
                "allow_sampling": {"type": "boolean"},
                "allow_logprobs": {"type": "boolean"},
                "allow_search_indices": {"type": "boolean"},
                "allow_view": {"type": "boolean"},
                "allow_fine_tuning": {"type": "boolean"},
                "organization": {"type": "string"},
                "group": {"type": "string", "nullable": True},
                "is_blocking": {"type": "boolean"},
            },
        },
        "The model_permission object of the legacy server (§2.11), absent from the 2023-12 spec.",
    ),
    Erratum(
        f"{SCHEMAS}/DeleteModelResponse/properties/object",
        {"type": "string", "enum": ["model"]},
        "Spec leaves `object` free; the real answer is always `model` (§2.13).",
    ),
    Erratum(
        f"{SCHEMAS}/CreateCompletionResponse/properties/choices/items/properties/finish_reason",
        {"type": "string", "enum": ["stop", "length", "content_filter"], "nullable": True},
        "Streamed completion chunks carry `finish_reason: null` until the last one (§2.14 real capture).",
    ),
    Erratum(
        _pointer("/files/{file_id}/content/get") + "/responses/200/content",
        {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        "The real download is raw bytes with application/octet-stream (§2.5), not a JSON string.",
    ),
    Erratum(
        _pointer("/fine-tunes/{fine_tune_id}/events/get") + "/responses/200/content/text~1event-stream",
        {"schema": SSE_EVENT},
        "With ?stream=true the events come as server-sent events (§2.10); the spec documents only JSON. "
        "The kit checks each `data:` payload against FineTuneEvent.",
    ),
    Erratum(
        _pointer("/completions/post") + "/responses/200/content/text~1event-stream",
        {"schema": SSE_EVENT},
        "With stream: true completions come as server-sent events (§2.14); each payload is a "
        "CreateCompletionResponse chunk.",
    ),
)


def _unescape(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~")


def apply_errata(spec: dict[str, Any], errata: tuple[Erratum, ...] = ERRATA) -> dict[str, Any]:
    """Set every erratum's node (creating missing parents) in place; returns the spec for chaining."""
    for erratum in errata:
        parts = [_unescape(part) for part in erratum.pointer.strip("/").split("/")]
        node = spec
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = erratum.value
    return spec
