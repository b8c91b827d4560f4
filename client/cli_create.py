"""`ftemu api fine_tunes.create`'s file handling: reuse an id, spot a duplicate upload, or upload with a bar."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

import httpx

from client._client import Client
from client.cli_output import Output, UploadBar
from client.errors import BadRequestError, NotFoundError, UnprocessableError
from client.types import FileObject


def upload(client: Client, data: bytes | Path, name: str, purpose: str, output: Output) -> FileObject:
    """Upload with a progress bar on stderr; the file keeps the name as typed."""
    bar = UploadBar(output.err)
    source = data.read_bytes() if isinstance(data, Path) else data
    created = client.files.create(source, purpose, filename=name, progress=bar)
    bar.finish(len(source))
    return created


def _choose_duplicate(name: str, size: int, ids: list[str], output: Output, stdin: TextIO) -> str | None:
    """The legacy prompt: an id from the list reuses it, an empty line (or end of input) uploads anyway."""
    output.info(
        f"Found potentially duplicated files with name '{name}', purpose 'fine-tune' and size {size} bytes\n"
        + "\n".join(ids),
        end="",
    )
    while True:
        output.info(
            "\nEnter file ID to reuse an already uploaded file, or an empty string to upload this file anyway: ",
            end="",
        )
        answer = stdin.readline().strip()
        if not answer:
            return None
        if answer in ids:
            output.info(f"Reusing already uploaded file: {answer}")
            return answer
        output.info(f"File id '{answer}' is not among the IDs of the potentially duplicated files")


def _duplicates(client: Client, path: Path, size: int) -> list[str]:
    return [
        f["id"]
        for f in client.files.list()["data"]
        if f["purpose"] == "fine-tune" and Path(f["filename"]).name == path.name and f["bytes"] == size
    ]


def get_or_upload(
    client: Client, value: str, output: Output, *, check_duplicates: bool, stdin: TextIO | None = None
) -> str:
    """An existing file id as is; a local path or an http(s) URL uploaded; anything else passed through."""
    try:
        client.files.retrieve(value)
        return value
    except (BadRequestError, NotFoundError, UnprocessableError):
        pass
    path = Path(value)
    if path.is_file():
        size = path.stat().st_size
        if check_duplicates:
            ids = _duplicates(client, path, size)
            chosen = _choose_duplicate(path.name, size, ids, output, stdin or sys.stdin) if ids else None
            if chosen:
                return chosen
        file_id = upload(client, path, value, "fine-tune", output)["id"]
    elif value.lower().startswith("http"):
        response = httpx.get(value, follow_redirects=True, timeout=600)
        if response.status_code != 200:
            return value
        file_id = upload(client, response.content, value, "fine-tune", output)["id"]
    else:
        return value
    output.info(f"Uploaded file from {value}: {file_id}")
    return file_id
