"""`ftemu conformance` (conformance.cli): the report by behaviour, and the kit catching deliberately broken builds."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from conformance.cli import main
from emulator import Settings
from emulator.testing import LiveServer

SPEC_DIR = os.environ.get("FTEMU_SPEC_DIR") or str(Path(__file__).resolve().parents[2] / "shared/reference/openapi")
Rewrite = Callable[[str, int, Any], tuple[int, Any]]


class RewriteJSON:
    """ASGI middleware: hands every JSON response (path, status, body) to `rewrite` and sends what it returns."""

    def __init__(self, app: ASGIApp, rewrite: Rewrite) -> None:
        self.app, self.rewrite = app, rewrite

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers", []))
                if b"application/json" not in headers.get(b"content-type", b""):
                    start["passthrough"] = True
                    await send(message)
                    return
                start.update(message)
                return
            if start.get("passthrough"):
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            status, body = self.rewrite(scope["path"], start["status"], json.loads(b"".join(chunks)))
            data = json.dumps(body).encode()
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [*headers, (b"content-length", str(len(data)).encode())],
                }
            )
            await send({"type": "http.response.body", "body": data})

        await self.app(scope, receive, capture)


@contextmanager
def broken_server(rewrite: Rewrite) -> Iterator[LiveServer]:
    """A live ftemu whose JSON answers go through `rewrite` (the rest of the build is untouched)."""
    server = LiveServer(Settings(memory=True, clock="manual", speed="60", seed=5))
    server.server.config.app = RewriteJSON(server.app, rewrite)
    with server:
        yield server


def run_report(tmp_path: Path, url: str, *extra: str) -> tuple[int, dict[str, str]]:
    report = tmp_path / "report.md"
    spec = ["--spec-dir", SPEC_DIR] if Path(SPEC_DIR).is_dir() else []
    code = main(["--target-url", url, *spec, "--report", str(report), *extra])
    results = {}
    for line in report.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.split(" | ")]
        if len(cells) >= 4 and cells[3].startswith("`test_"):
            results[cells[3].strip("`")] = cells[2]
    return code, results


def reverse_events(path: str, status: int, body: Any) -> tuple[int, Any]:
    if isinstance(body, dict) and isinstance(body.get("events"), list):
        body["events"].reverse()
    return status, body


def fastapi_422(path: str, status: int, body: Any) -> tuple[int, Any]:
    error = body.get("error") if isinstance(body, dict) else None
    if status == 400 and error and "is not of type" in error["message"]:
        return 422, {
            "detail": [
                {"loc": ["body", error["param"]], "msg": "Input should be a valid integer", "type": "int_parsing"}
            ]
        }
    return status, body


def test_conformance_report_passes_on_ftemu(tmp_path: Path) -> None:
    with LiveServer(Settings(memory=True, clock="manual", speed="60", seed=5)) as server:
        code, results = run_report(tmp_path, server.base_url)
    assert code == 0
    assert results["test_fine_tune_succeeds_with_the_documented_events"] == "pass"
    assert set(results.values()) <= {"pass", "skip"} and list(results.values()).count("pass") > 40
    text = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert f"Target: the server at {server.base_url}" in text
    assert "| §2.9 | Cancelling a pending job returns it `cancelled`" in text


def test_conformance_catches_events_out_of_order(tmp_path: Path) -> None:
    with broken_server(reverse_events) as server:
        code, results = run_report(tmp_path, server.base_url)
    assert code == 1
    assert results["test_fine_tune_succeeds_with_the_documented_events"] == "FAIL"
    assert results["test_cancel_fine_tune_pending"] == "FAIL"
    assert results["test_create_file_returns_the_file_object"] == "pass"
    assert results["test_list_models_has_the_base_models"] == "pass"


def test_conformance_catches_a_fastapi_422_body(tmp_path: Path) -> None:
    with broken_server(fastapi_422) as server:
        code, results = run_report(tmp_path, server.base_url, "-k", "test_errors")
    assert code == 1
    assert results["test_create_fine_tune_wrong_type_is_400"] == "FAIL"
    assert results["test_create_fine_tune_invalid_json_is_400"] == "pass"
    assert "422" in (tmp_path / "report.md").read_text(encoding="utf-8")


def test_conformance_cli_writes_to_stdout_without_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-k", "test_list_models_has_the_base_models"]) == 0
    out = capsys.readouterr().out
    assert "Target: ftemu in-process" in out
    assert "| §2.11 | The model list holds ada, babbage, curie and davinci" in out and "| pass |" in out
