"""Serving: `python -m emulator` and `ftemu serve` start, answer, shut down cleanly, and keep data across restarts."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from emulator import server
from emulator.app import create_app
from emulator.core.catalogue import BASE_MODELS, MODERN_MODELS
from emulator.settings import Settings, add_arguments, load_settings, parse_settings
from emulator.testing import free_port
from tests.conftest import AUTH, capitals, fast_settings, in_process, upload
from tests.emulator.v1.support import chat_lines, jsonl


def start(*flags: str, command: list[str] | None = None) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    base = command or [sys.executable, "-m", "emulator"]
    process = subprocess.Popen(
        [*base, "--port", str(port), "--log-level", "warning", *flags],
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/models", headers=AUTH, timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.02)
        assert process.poll() is None, process.communicate()
    raise AssertionError("server did not start")


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_serve_shuts_down_cleanly_and_keeps_data(tmp_path: Path, stop: signal.Signals) -> None:
    process, url = start("--data-dir", str(tmp_path))
    with httpx.Client(base_url=url, headers=AUTH) as http:
        file_id = upload(http, capitals(3))["id"]
    process.send_signal(stop)
    assert process.wait(timeout=20) == 0
    process, url = start("--data-dir", str(tmp_path))
    try:
        assert httpx.get(f"{url}/files/{file_id}", headers=AUTH).json()["id"] == file_id
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_serve_console_script_answers_models(tmp_path: Path) -> None:
    ftemu = Path(sys.executable).parent / "ftemu"
    process, url = start("--memory", command=[str(ftemu), "serve"])
    try:
        ids = [m["id"] for m in httpx.get(f"{url}/models", headers=AUTH).json()["data"]]
        assert ids == [*BASE_MODELS, *MODERN_MODELS]
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_serve_bad_flag_value_exits_2() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "emulator", "--speed", "fast"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2
    assert "--speed must be a positive number or 'instant', not 'fast'" in result.stderr


def test_serve_unreadable_keys_file_fails_clearly(tmp_path: Path) -> None:
    keys = tmp_path / "keys.txt"
    keys.write_text("not a table")
    result = subprocess.run(
        [sys.executable, "-m", "emulator", "--memory", "--keys", str(keys)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0 and "neither JSON nor TOML" in result.stderr


def test_settings_flags_win_over_environment() -> None:
    env = {"FTEMU_PORT": "9000", "FTEMU_SPEED": "instant", "FTEMU_MEMORY": "true"}
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    settings = load_settings(parser.parse_args(["--port", "9100"]), env)
    assert (settings.port, settings.speed, settings.memory) == (9100, "instant", True)
    assert settings.speed_factor is None


def test_settings_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [name for name in os.environ if name.startswith("FTEMU_")]:
        monkeypatch.delenv(name)
    settings = parse_settings([])
    assert settings == Settings()
    assert (settings.host, settings.port, settings.data_dir, settings.organization, settings.speed) == (
        "127.0.0.1",
        8000,
        ".ftemu",
        "personal",
        "60",
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"clock": "lunar"}, "--clock must be 'system' or 'manual'"),
        ({"training_slots": 0}, "--training-slots must be at least 1"),
        ({"speed": "-1"}, "--speed must be a positive number"),
        ({"clock_start": "yesterday"}, "not an ISO 8601 time"),
    ],
)
def test_settings_reject_bad_values(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings(**changes)  # type: ignore[arg-type]


def test_warm_up_loads_the_tokenizers_of_the_stored_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app(fast_settings())
    store = app.state.core.store
    loaded: list[str] = []
    monkeypatch.setattr(server, "encoding_for_model", loaded.append)
    server._warm_up(store)
    assert loaded == ["davinci", "gpt-4o-mini-2024-07-18"]  # GPT-3's and the current models' (o200k_base)
    http = in_process(app)
    file_id = upload(http, jsonl(chat_lines()))["id"]
    for model in ("gpt-4o-mini-2024-07-18", "gpt-3.5-turbo-0125", "gpt-4o-mini-2024-07-18"):
        assert http.post("/fine_tuning/jobs", json={"model": model, "training_file": file_id}).status_code == 200
    loaded.clear()
    server._warm_up(store)
    assert loaded[:2] == ["davinci", "gpt-4o-mini-2024-07-18"]
    assert sorted(loaded[2:]) == ["gpt-3.5-turbo-0125", "gpt-4o-mini-2024-07-18"]
    app.state.core.close()
