"""Issue 13: a 1.1 GB upload over the 1 GB storage limit is refused by its Content-Length, before its body.

curl (a non-Python client, `Expect: 100-continue` as it sends big bodies) and httpx both upload a sparse 1.1 GB
file to `ftemu serve`; the figures are the seconds to the 400 and the files left in the server's temp
directory (its own TMPDIR) afterwards. Target: under a second, nothing left.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import AUTH, ROOT, free, ftemu_serve_command, server

SIZE = 1_100_000_000


def files_under(root: Path) -> list[str]:
    """Files an upload could have left (the tokenizer's cache, written by the server's warm-up, is not one)."""
    return [
        os.path.join(folder, name)
        for folder, _, names in os.walk(root)
        for name in names
        if "ftemu-cache" not in folder
    ]


def main() -> None:
    with tempfile.TemporaryDirectory() as work:
        big = Path(work) / "big.jsonl"
        with open(big, "wb") as handle:
            handle.truncate(SIZE)  # sparse: no disk, no time
        server_tmp = Path(work) / "server-tmp"
        server_tmp.mkdir()
        port = free()
        os.environ["TMPDIR"] = str(server_tmp)
        try:
            with server(ftemu_serve_command(port), port, "/v1/models"):
                before = files_under(server_tmp)
                url = f"http://127.0.0.1:{port}/v1/files"
                command = ["curl", "-s", "-o", "-", "-w", "\n%{http_code} %{time_total}", "-H"]
                command += [f"Authorization: {AUTH['Authorization']}", "-F", "purpose=fine-tune", "-F", f"file=@{big}"]
                output = subprocess.run([*command, url], capture_output=True, text=True, cwd=ROOT).stdout
                body, _, status_time = output.rpartition("\n")
                status, seconds = status_time.split()
                message = json.loads(body)["error"]["message"]
                print(f"curl: {SIZE / 1e9:.1f} GB upload -> {status} in {float(seconds):.3f} s: {message[:60]}...")
                started = time.perf_counter()
                with open(big, "rb") as handle:
                    try:
                        response = httpx.post(
                            url,
                            headers=AUTH,
                            files={"file": ("big.jsonl", handle)},
                            data={"purpose": "fine-tune"},
                            timeout=120,
                        )
                        outcome = f"{response.status_code}"
                    except httpx.TransportError as exc:
                        outcome = f"connection closed while sending ({type(exc).__name__})"
                print(f"httpx: {outcome} after {time.perf_counter() - started:.3f} s")
                time.sleep(0.5)
                after = files_under(server_tmp)
        finally:
            del os.environ["TMPDIR"]
    print(
        f"files in the server's temp directory: {len(before)} before, {len(after)} after {after} "
        "(target: none left; < 1 s)"
    )


if __name__ == "__main__":
    main()
