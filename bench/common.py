"""Benchmark helpers: servers in subprocesses on loopback, a bounded load loop, and the bare baseline app."""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from emulator.testing import free_port

ROOT = Path(__file__).resolve().parent.parent
AUTH = {"Authorization": "Bearer sk-bench-000000000000"}
UVICORN_FLAGS = ["--log-level", "warning", "--no-access-log"]


@contextmanager
def server(command: list[str], port: int, probe: str, *, key: str | None = None) -> Iterator[float]:
    """Start a server process; yields seconds from spawn to the first 200 on `probe`."""
    with server_process(command, port, probe, key=key) as (_, seconds):
        yield seconds


def cpu_seconds(process: subprocess.Popen[bytes]) -> float | None:
    """CPU time (user + system) the process has used so far; None where /proc cannot tell (not Linux)."""
    try:
        fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def server_process(
    command: list[str], port: int, probe: str, *, key: str | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], float]]:
    """Start a server process; yields it and the seconds from spawn to the first 200 on `probe`.

    Its log goes to a file, not a pipe: a pipe nobody reads fills up and then blocks the server.
    """
    started = time.perf_counter()
    headers = AUTH if key is None else {"Authorization": f"Bearer {key}"}
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log, env={**os.environ, "PYTHONPATH": str(ROOT)}
        )
        try:
            deadline = started + 30
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}{probe}", headers=headers, timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None or time.perf_counter() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"server did not start: {log.read().decode(errors='replace')}")
                time.sleep(0.005)
            yield process, time.perf_counter() - started
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


def start_script(script: str, kind: str, key: str, attempts: int = 400) -> tuple[subprocess.Popen[bytes], str]:
    """Run `python script --serve kind PORT` and wait until it answers GET /v1/models; (process, base URL)."""
    port = free_port()
    process = subprocess.Popen([sys.executable, script, "--serve", kind, str(port)], cwd=ROOT)
    url = f"http://127.0.0.1:{port}/v1"
    for _ in range(attempts):
        try:
            httpx.get(url + "/models", headers={"Authorization": f"Bearer {key}"}, timeout=1)
            return process, url
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit(f"{kind} server did not start")


def sequential_rate(http: httpx.Client, path: str, body: dict[str, object], requests: int) -> float:
    """Completed requests per second over `requests` sequential keep-alive POSTs (each must be a 200)."""
    started = time.perf_counter()
    for _ in range(requests):
        response = http.post(path, json=body)
        assert response.status_code == 200, response.text
    return requests / (time.perf_counter() - started)


def print_ratio_rounds(
    bare: httpx.Client, ftemu: httpx.Client, path: str, body: dict[str, object], *, label: str, target: float
) -> None:
    """Alternate bare and ftemu rounds of sequential requests; print each ratio and the median."""
    ratios = []
    for round_number in range(1, 4):
        bare_rate = sequential_rate(bare, path, body, 1500)
        ftemu_rate = sequential_rate(ftemu, path, body, 1500)
        ratios.append(ftemu_rate / bare_rate)
        print(
            f"round {round_number}: bare Starlette {bare_rate:7.0f} req/s   ftemu {label} "
            f"{ftemu_rate:7.0f} req/s   ratio {ratios[-1]:.2f}"
        )
    print(f"{label} / bare endpoint: median ratio {statistics.median(ratios):.2f} (target >= {target})")


def print_lookup_times(kind: str, calls: list[Callable[[], object]]) -> None:
    """Time each call three times: median and max of the first call and of the best of three, in ms."""
    first, best = [], []
    for call in calls:
        runs = []
        for _ in range(3):
            started = time.perf_counter()
            call()
            runs.append(time.perf_counter() - started)
        first.append(runs[0])
        best.append(min(runs))
    print(
        f"lookup ({kind:9}, {len(calls)} queries): first call median {statistics.median(first) * 1e3:.3f} ms"
        f" max {max(first) * 1e3:.3f} ms; best of 3 median {statistics.median(best) * 1e3:.3f} ms"
        f" max {max(best) * 1e3:.3f} ms (target < 1 ms)"
    )


BENCH_UVICORN = {"host": "127.0.0.1", "log_level": "warning", "access_log": False}


def run_bare(path: str, object_name: str, port: int) -> None:
    """Serve the baseline: a bare Starlette endpoint answering POST `path` with a tiny object of that name."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def bare(request: Request) -> JSONResponse:
        body = await request.json()
        return JSONResponse({"object": object_name, "model": body.get("model"), "choices": []})

    app = Starlette(routes=[Route(path, bare, methods=["POST"])])
    uvicorn.run(app, port=port, **BENCH_UVICORN)  # type: ignore[arg-type]


@contextmanager
def bare_and_ftemu(script: str, key: str, attempts: int = 400) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """The script's `bare` and `ftemu` servers, each in its own process, and a keep-alive client for each."""
    bare, bare_url = start_script(script, "bare", key, attempts)
    ftemu, ftemu_url = start_script(script, "ftemu", key, attempts)
    headers = {"Authorization": f"Bearer {key}"}
    try:
        with (
            httpx.Client(base_url=bare_url, headers=headers) as b,
            httpx.Client(base_url=ftemu_url, headers=headers, timeout=120) as f,
        ):
            yield b, f
    finally:
        for process in (bare, ftemu):
            process.terminate()
            process.wait(10)
