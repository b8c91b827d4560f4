"""Structured answers: a JSON value of a given JSON schema (response_format, tool arguments), drawn from a seed.

Covers what structured outputs accept: object (properties, required), array (items, minItems, maxItems),
string (enum, const), number, integer (minimum / maximum), boolean, null, anyOf / oneOf (the first branch),
local $ref ("#/$defs/…" and "#/definitions/…"). Strings are a few words of base-model text.
"""

from __future__ import annotations

import json
import random
from typing import Any

from emulator.inference.generation import base_text

MAX_DEPTH = 8


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return schema
    target: Any = root
    for part in ref[2:].split("/"):
        target = target.get(part, {}) if isinstance(target, dict) else {}
    return target if isinstance(target, dict) else {}


def _words(rng: random.Random, hint: str) -> str:
    return base_text(rng, hint, rng.randint(8, 40)).strip().rstrip(".")


def _number(rng: random.Random, schema: dict[str, Any], integer: bool) -> int | float:
    low = schema.get("minimum", 0)
    high = schema.get("maximum", max(low, 0) + 100)
    if integer:
        return rng.randint(int(low), int(max(low, high)))
    return round(rng.uniform(float(low), float(max(low, high))), 2)


def instance(rng: random.Random, schema: Any, root: Any = None, name: str = "", depth: int = 0) -> Any:
    """A value valid under the schema (a schema it cannot read gives a string)."""
    if not isinstance(schema, dict):
        return _words(rng, name)
    root = schema if root is None else root
    schema = _resolve(schema, root)
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][rng.randrange(len(schema["enum"]))]
    for combinator in ("anyOf", "oneOf", "allOf"):
        if isinstance(schema.get(combinator), list) and schema[combinator]:
            return instance(rng, schema[combinator][0], root, name, depth + 1)
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if depth > MAX_DEPTH:
        kind = "null" if kind in ("object", "array") else kind
    return _typed(rng, schema, root, name, depth, str(kind))


def _typed(rng: random.Random, schema: dict[str, Any], root: Any, name: str, depth: int, kind: str) -> Any:
    if kind == "object":
        properties = schema.get("properties") or {}
        return {key: instance(rng, sub, root, key, depth + 1) for key, sub in properties.items()}
    if kind == "array":
        low = int(schema.get("minItems", 1))
        high = int(schema.get("maxItems", max(low, 3)))
        count = rng.randint(low, max(low, high))
        return [instance(rng, schema.get("items"), root, name, depth + 1) for _ in range(count)]
    if kind == "integer":
        return _number(rng, schema, integer=True)
    if kind == "number":
        return _number(rng, schema, integer=False)
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "null":
        return None
    return _words(rng, name)


def json_text(value: Any) -> str:
    """JSON as the models write it: compact, unicode kept."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True
