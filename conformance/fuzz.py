"""`make fuzz`: schemathesis with the overlaid legacy spec against a live ftemu (or --url): no 5xx, no violations."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from conformance.options import DEFAULT_KEY
from conformance.schema import find_spec, load_spec

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
)


def schemathesis_command() -> list[str]:
    script = Path(sys.executable).with_name("schemathesis")
    if script.exists():
        return [str(script)]
    found = shutil.which("schemathesis")
    if found is None:
        raise SystemExit("schemathesis is not installed: pip install -e '.[fuzz]' (make fuzz does it)")
    return [found]


def seed_resources(url: str, api_key: str) -> dict[str, str]:
    """Create a training file and a job (and so, on an instant ftemu, a model) for the examples to hit."""
    import httpx

    rows = "".join(json.dumps({"prompt": f"Q{i} ->", "completion": f" A{i}\n"}) + "\n" for i in range(10))
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {api_key}"}, timeout=60) as http:
        upload = http.post("/files", files={"file": ("train.jsonl", rows.encode())}, data={"purpose": "fine-tune"})
        file_id = upload.raise_for_status().json()["id"]
        job = http.post("/fine-tunes", json={"training_file": file_id, "model": "ada"}).raise_for_status().json()
        model = http.get(f"/fine-tunes/{job['id']}").raise_for_status().json()["fine_tuned_model"]
    return {"file_id": file_id, "fine_tune_id": job["id"], "model": model or "ada"}


def add_examples(spec: dict[str, Any], values: dict[str, str]) -> None:
    """Give each path parameter a real id as its example, so the examples phase reaches real resources."""
    for operations in spec["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "path" and parameter.get("name") in values:
                    parameter["example"] = values[parameter["name"]]
                    parameter.get("schema", {}).pop("example", None)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m conformance.fuzz", description=__doc__)
    parser.add_argument("--spec-dir", metavar="DIR", help="Official OpenAPI specs (default: $FTEMU_SPEC_DIR).")
    parser.add_argument("--url", metavar="URL", help="Fuzz this base URL instead of a fresh ftemu.")
    parser.add_argument("--api-key", metavar="KEY", default=DEFAULT_KEY, help="Bearer key to send.")
    parser.add_argument("--max-examples", metavar="N", type=int, default=40, help="Test cases per operation.")
    parser.add_argument("--seed", metavar="N", type=int, default=7, help="Seed, for a repeatable run.")
    parser.add_argument("extra", nargs="*", help="More `schemathesis run` arguments (after --).")
    return parser


def run(spec_path: Path, url: str, args: argparse.Namespace) -> int:
    spec = load_spec(spec_path)
    spec["servers"] = [{"url": url}]
    add_examples(spec, seed_resources(url, args.api_key))
    with tempfile.TemporaryDirectory(prefix="ftemu-fuzz-") as work:
        overlaid = Path(work) / "openapi-legacy-overlaid.json"
        overlaid.write_text(json.dumps(spec), encoding="utf-8")
        command = [
            *schemathesis_command(),
            "run",
            str(overlaid),
            "--url",
            url,
            "--checks",
            ",".join(CHECKS),
            "--header",
            f"Authorization: Bearer {args.api_key}",
            "--max-examples",
            str(args.max_examples),
            "--seed",
            str(args.seed),
            "--no-color",
            "--phases",
            "examples,coverage,fuzzing",
            "--generation-database",
            "none",
            "--workers",
            "1",
            *args.extra,
        ]
        print("$", " ".join(command[1:]), flush=True)
        return subprocess.run(command, check=False, cwd=work).returncode


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    spec_path = find_spec(args.spec_dir)
    if spec_path is None:
        raise SystemExit("no spec: pass --spec-dir DIR or set FTEMU_SPEC_DIR")
    if args.url:
        return run(spec_path, args.url, args)
    from emulator import Settings
    from emulator.testing import LiveServer

    with LiveServer(Settings(memory=True, clock="manual", speed="instant", seed=7, log_level="critical")) as server:
        return run(spec_path, server.base_url, args)


if __name__ == "__main__":
    raise SystemExit(main())
