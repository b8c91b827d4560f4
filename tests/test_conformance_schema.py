"""The schema check: the errata overlay applies cleanly and the check catches what the spec forbids."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conformance.errata import ERRATA, LEGACY_PATHS, apply_errata
from conformance.schema import SPEC_FILE, SchemaViolation, Spec, find_spec, spec_notice, to_json_schema

SPEC_DIR = Path(os.environ.get("FTEMU_SPEC_DIR") or Path(__file__).resolve().parents[2] / "shared/reference/openapi")
pytestmark = pytest.mark.skipif(not (SPEC_DIR / SPEC_FILE).is_file(), reason="official spec not available")
ERROR = json.dumps({"error": {"message": "m", "type": "invalid_request_error", "param": None, "code": None}}).encode()


@pytest.fixture(scope="module")
def spec() -> Spec:
    return Spec.load(SPEC_DIR / SPEC_FILE)


def test_load_spec_keeps_only_the_legacy_paths(spec: Spec) -> None:
    assert sorted(spec.document["paths"]) == sorted(LEGACY_PATHS)


def test_errata_each_have_a_reason_and_a_target() -> None:
    import yaml

    original = yaml.safe_load((SPEC_DIR / SPEC_FILE).read_text(encoding="utf-8"))
    for erratum in ERRATA:
        assert len(erratum.reason) > 20, erratum.pointer
        parent = original
        for part in erratum.pointer.strip("/").split("/")[:-2]:
            parent = parent[part.replace("~1", "/")]  # every erratum extends a node the spec already has
    assert apply_errata({})["components"]["schemas"]["ModelPermission"]["type"] == "object"


def test_to_json_schema_makes_nullable_fields_accept_null() -> None:
    assert to_json_schema({"type": "string", "nullable": True}) == {"type": ["string", "null"]}
    assert to_json_schema({"type": "string", "enum": ["a"], "nullable": True}) == {
        "type": ["string", "null"],
        "enum": ["a", None],
    }
    assert to_json_schema({"$ref": "#/x", "nullable": True}) == {"anyOf": [{"$ref": "#/x"}, {"type": "null"}]}


def test_check_response_accepts_a_file_with_null_status_details(spec: Spec) -> None:
    body = {
        "object": "file",
        "id": "file-x",
        "purpose": "fine-tune",
        "filename": "a",
        "bytes": 1,
        "created_at": 1,
        "status": "uploaded",
        "status_details": None,
    }
    spec.check_response("GET", "/files/file-x", 200, "application/json", json.dumps(body).encode())


def test_check_response_rejects_a_fastapi_422_body(spec: Spec) -> None:
    body = json.dumps({"detail": [{"loc": ["body", "n_epochs"], "msg": "bad"}]}).encode()
    with pytest.raises(SchemaViolation, match="'error' is a required property"):
        spec.check_response("POST", "/fine-tunes", 422, "application/json", body)


def test_check_response_rejects_an_error_envelope_without_code(spec: Spec) -> None:
    body = json.dumps({"error": {"message": "m", "type": "invalid_request_error", "param": None}}).encode()
    with pytest.raises(SchemaViolation, match="'code' is a required property"):
        spec.check_response("GET", "/models/x", 404, "application/json", body)


def test_check_response_rejects_an_undocumented_content_type(spec: Spec) -> None:
    with pytest.raises(SchemaViolation, match="content type text/plain"):
        spec.check_response("GET", "/models", 200, "text/plain", b"hello")


def test_check_response_rejects_a_pending_job_missing_a_field(spec: Spec) -> None:
    job = {
        "object": "fine-tune",
        "id": "ft-x",
        "hyperparams": {},
        "organization_id": "org-x",
        "model": "ada",
        "training_files": [],
        "validation_files": [],
        "result_files": [],
        "created_at": 1,
        "updated_at": 1,
        "status": "pending",
    }
    with pytest.raises(SchemaViolation, match="fine_tuned_model"):
        spec.check_response("GET", "/fine-tunes/ft-x", 200, "application/json", json.dumps(job).encode())


def test_check_response_checks_errors_on_unknown_paths(spec: Spec) -> None:
    spec.check_response("GET", "/nope", 404, "application/json", ERROR)
    with pytest.raises(SchemaViolation, match="expected JSON"):
        spec.check_response("GET", "/nope", 404, "text/plain", b"Not Found")


def test_find_spec_reads_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FTEMU_SPEC_DIR", str(SPEC_DIR))
    assert find_spec(None) == SPEC_DIR / SPEC_FILE
    assert spec_notice(None) == f"spec in {SPEC_DIR} + errata"
    with pytest.raises(FileNotFoundError, match=SPEC_FILE):
        find_spec(str(tmp_path))
    monkeypatch.delenv("FTEMU_SPEC_DIR")
    assert find_spec(None) is None
