"""Benchmark helpers: servers in subprocesses on loopback, a bounded load loop, and the bare baseline app."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from emulator.testing import free_port

ROOT = Path(__file__).resolve().parent.parent
AUTH = {"Authorization": "Bearer sk-bench-000000000000"}
UVICORN_FLAGS = ["--log-level", "warning", "--no-access-log"]


@contextmanager
def server(command: list[str], port: int, probe: str) -> Iterator[float]:
    """Start a server process; yields seconds from spawn to the first 200 on `probe`."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        deadline = started + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}{probe}", headers=AUTH, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.perf_counter() > deadline:
                raise RuntimeError(f"server did not start: {process.stderr.read() if process.stderr else ''}")
            time.sleep(0.005)
        yield time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(timeout=10)


def ftemu_command(port: int, *flags: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "emulator",
        "--memory",
        "--port",
        str(port),
        "--log-level",
        "warning",
        *flags,
    ]


def ftemu_serve_command(port: int, *flags: str) -> list[str]:
    """`ftemu serve` as a user starts it: its defaults (uvicorn[standard], no access log, log level info)."""
    return [str(Path(sys.executable).with_name("ftemu")), "serve", "--memory", "--port", str(port), *flags]


def bare_command(port: int) -> list[str]:
    """The ceiling: a bare Starlette app on uvicorn[standard] (uvloop, httptools), started the same way."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.bare_app:app",
        "--port",
        str(port),
        "--loop",
        "auto",
        "--http",
        "auto",
        *UVICORN_FLAGS,
    ]


def ensure_wrk() -> str | None:
    """The `wrk` binary, installed with apt-get when missing and allowed (root); None if it cannot be had."""
    found = shutil.which("wrk")
    if found is None and shutil.which("apt-get") and os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], capture_output=True, check=False)
        found = shutil.which("wrk")
    return found


def wrk(url: str, *, seconds: float = 3.0, threads: int = 2, connections: int = 32) -> float:
    """Requests per second `wrk` measures (non-2xx answers make it fail loudly)."""
    binary = ensure_wrk()
    if binary is None:
        return load(url, seconds=seconds, concurrency=connections)
    command = [
        binary,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "-H",
        f"Authorization: {AUTH['Authorization']}",
    ]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"wrk saw errors:\n{output}")
    return float(next(line.split()[1] for line in output.splitlines() if line.startswith("Requests/sec:")))


def load(url: str, *, seconds: float = 3.0, concurrency: int = 8, method: str = "GET", body: bytes = b"") -> float:
    """Requests per second over `seconds` with `concurrency` keep-alive connections.

    A raw asyncio HTTP/1.1 client (much lighter than httpx), so the server, not the load generator, is what
    gets measured. Every response must be a 200.
    """
    parsed = httpx.URL(url)
    host, port, path = parsed.host, parsed.port or 80, parsed.raw_path.decode()
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {AUTH['Authorization']}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body

    async def worker(stop: float) -> int:
        reader, writer = await asyncio.open_connection(host, port)
        done = 0
        try:
            while time.perf_counter() < stop:
                writer.write(head)
                status_and_headers = await reader.readuntil(b"\r\n\r\n")
                assert status_and_headers.startswith(b"HTTP/1.1 200"), status_and_headers
                length = next(
                    int(line.split(b":")[1])
                    for line in status_and_headers.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                await reader.readexactly(length)
                done += 1
        finally:
            writer.close()
        return done

    async def run() -> int:
        stop = time.perf_counter() + seconds
        return sum(await asyncio.gather(*(worker(stop) for _ in range(concurrency))))

    started = time.perf_counter()
    count = asyncio.run(run())
    return count / (time.perf_counter() - started)


def free() -> int:
    return free_port()
