"""The schema check: the official OpenAPI spec plus the errata overlay, and validation of each response."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from conformance.errata import LEGACY_PATHS, apply_errata

SPEC_FILE = "openapi-2023-12-22-legacy.yaml"
SPEC_ENV = "FTEMU_SPEC_DIR"


class SchemaViolation(AssertionError):
    """A response that the (overlaid) official spec does not allow."""


def find_spec(spec_dir: str | None) -> Path | None:
    """The legacy spec file from --spec-dir, else FTEMU_SPEC_DIR; None when neither names one.

    An explicit --spec-dir without the spec is an error. FTEMU_SPEC_DIR is a default (the Makefile sets it to
    ../shared/reference/openapi, which a user's clone does not have): when it holds no spec, the schema check is
    off and spec_notice() says why.
    """
    if spec_dir:
        path = Path(spec_dir) / SPEC_FILE
        if not path.is_file():
            raise FileNotFoundError(f"no {SPEC_FILE} in {spec_dir} (from --spec-dir)")
        return path
    directory = os.environ.get(SPEC_ENV)
    if not directory or not (Path(directory) / SPEC_FILE).is_file():
        return None
    return Path(directory) / SPEC_FILE


def spec_notice(spec_dir: str | None) -> str:
    """What the report header says about the schema check, given --spec-dir and FTEMU_SPEC_DIR."""
    directory = spec_dir or os.environ.get(SPEC_ENV)
    if not directory:
        return f"off (no --spec-dir / {SPEC_ENV})"
    if (Path(directory) / SPEC_FILE).is_file():
        return f"spec in {directory} + errata"
    return f"SKIPPED: {SPEC_ENV}={directory} has no {SPEC_FILE}; responses are not checked against the spec"


def load_spec(path: Path, *, legacy_only: bool = True) -> dict[str, Any]:
    """Parse the spec, keep only the legacy endpoints, and apply the errata overlay."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open(encoding="utf-8") as handle:
        spec: dict[str, Any] = yaml.load(handle, Loader=loader)
    if legacy_only:
        spec["paths"] = {p: spec["paths"][p] for p in LEGACY_PATHS if p in spec["paths"]}
    return apply_errata(spec)


def to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema -> JSON Schema: `nullable: true` becomes a null alternative."""
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: to_json_schema(value) for key, value in node.items() if key not in ("nullable", "example")}
    if node.get("nullable") is True:
        if isinstance(converted.get("type"), str):
            converted["type"] = [converted["type"], "null"]
            if "enum" in converted:
                converted["enum"] = [*converted["enum"], None]
        else:
            return {"anyOf": [converted, {"type": "null"}]}
    return converted


def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts) + "$")


@dataclass
class Spec:
    """The overlaid spec, ready to check (method, path, status, content type, body) against."""

    path: Path
    document: dict[str, Any] = field(repr=False)
    _validators: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, path: Path) -> Spec:
        return cls(path, load_spec(path))

    @cached_property
    def components(self) -> dict[str, Any]:
        converted: dict[str, Any] = to_json_schema(self.document["components"])
        return converted

    @cached_property
    def _routes(self) -> list[tuple[re.Pattern[str], str]]:
        return [(_template_regex(template), template) for template in self.document["paths"]]

    def operation(self, method: str, path: str) -> dict[str, Any] | None:
        for pattern, template in self._routes:
            if pattern.match(path):
                found: dict[str, Any] | None = self.document["paths"][template].get(method.lower())
                return found
        return None

    def _validator(self, schema: dict[str, Any]) -> Any:
        key = json.dumps(schema, sort_keys=True)
        if key not in self._validators:
            from jsonschema import Draft202012Validator

            self._validators[key] = Draft202012Validator({**to_json_schema(schema), "components": self.components})
        return self._validators[key]

    def validate(self, schema: dict[str, Any], instance: Any, where: str) -> None:
        errors = sorted(self._validator(schema).iter_errors(instance), key=lambda e: list(e.absolute_path))
        if errors:
            first = errors[0]
            at = "/".join(str(p) for p in first.absolute_path) or "(root)"
            raise SchemaViolation(f"{where}: {first.message} at {at}")

    def validate_component(self, name: str, instance: Any, where: str) -> None:
        self.validate({"$ref": f"#/components/schemas/{name}"}, instance, where)

    def check_response(self, method: str, path: str, status: int, content_type: str, body: bytes | None) -> None:
        """Raise SchemaViolation unless the spec allows this response; body None: not read (a stream)."""
        where = f"{method} {path} -> {status}"
        operation = self.operation(method, path)
        if operation is None:
            if status >= 400 and body is not None:
                self._check_json(ERROR_SCHEMA, content_type, body, where)
            return
        responses = operation.get("responses", {})
        documented = responses.get(str(status)) or responses.get("default")
        if documented is None:
            raise SchemaViolation(f"{where}: status {status} is not documented")
        media = content_type.split(";")[0].strip().lower()
        content = documented.get("content", {})
        if media not in content:
            raise SchemaViolation(f"{where}: content type {media or '(none)'} is not one of {sorted(content)}")
        if media == "application/json" and body is not None:
            self._check_json(content[media].get("schema", {}), content_type, body, where)

    def _check_json(self, schema: dict[str, Any], content_type: str, body: bytes, where: str) -> None:
        if "json" not in content_type:
            raise SchemaViolation(f"{where}: expected JSON, got content type {content_type or '(none)'}")
        try:
            instance = json.loads(body)
        except ValueError:
            raise SchemaViolation(f"{where}: body is not JSON: {body[:80]!r}") from None
        self.validate(schema, instance, where)


ERROR_SCHEMA: dict[str, Any] = {"$ref": "#/components/schemas/ErrorResponse"}
