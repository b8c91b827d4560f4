"""How the CLI prints: readable tables and summaries by default, the raw objects with --json."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

DASH = "-"


def local_time(created_at: float) -> str:
    """`2023-05-23 08:00:00` in the machine's time zone, as the legacy follow prints event times."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(created_at))


def event_line(event: dict[str, Any]) -> str:
    return f"[{local_time(event['created_at'])}] {event['message']}"


def human_size(count: float) -> str:
    """13000 -> `13.0k`, as tqdm scales units."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if count >= size:
            return f"{count / size:.1f}{unit}"
    return f"{count:.0f}"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [headers, *rows]
    ]
    return "\n".join(lines)


def fields(pairs: Sequence[tuple[str, str]]) -> str:
    width = max(len(key) for key, _ in pairs)
    return "\n".join(f"{key.ljust(width)}  {value}" for key, value in pairs)


def file_rows(files: Sequence[dict[str, Any]]) -> str:
    rows = [
        [f["id"], f["purpose"], f["filename"], str(f["bytes"]), local_time(f["created_at"]), f["status"]] for f in files
    ]
    return table(["ID", "PURPOSE", "FILENAME", "BYTES", "CREATED", "STATUS"], rows)


def fine_tune_rows(jobs: Sequence[dict[str, Any]]) -> str:
    rows = [
        [j["id"], j["model"], j["status"], j.get("fine_tuned_model") or DASH, local_time(j["created_at"])] for j in jobs
    ]
    return table(["ID", "MODEL", "STATUS", "FINE-TUNED MODEL", "CREATED"], rows)


def model_rows(models: Sequence[dict[str, Any]]) -> str:
    rows = [[m["id"], m.get("owned_by", DASH), local_time(m["created"]) if "created" in m else DASH] for m in models]
    return table(["ID", "OWNED BY", "CREATED"], rows)


def _file_ids(files: Sequence[dict[str, Any]]) -> str:
    return ", ".join(f"{f['id']} ({f['filename']})" for f in files) or DASH


def fine_tune_summary(job: dict[str, Any]) -> str:
    hyperparams = " ".join(f"{key}={json.dumps(value)}" for key, value in job.get("hyperparams", {}).items())
    text = fields(
        [
            ("id", job["id"]),
            ("status", job["status"]),
            ("model", job["model"]),
            ("fine_tuned_model", job.get("fine_tuned_model") or DASH),
            ("created_at", local_time(job["created_at"])),
            ("updated_at", local_time(job["updated_at"])),
            ("training_files", _file_ids(job.get("training_files", []))),
            ("validation_files", _file_ids(job.get("validation_files", []))),
            ("result_files", _file_ids(job.get("result_files", []))),
            ("hyperparams", hyperparams or DASH),
        ]
    )
    if "events" in job:
        text += "\nevents:\n" + "\n".join(event_line(event) for event in job["events"])
    return text


def model_summary(model: dict[str, Any]) -> str:
    return fields(
        [
            ("id", model["id"]),
            ("owned_by", model.get("owned_by", DASH)),
            ("created", local_time(model["created"]) if "created" in model else DASH),
            ("root", model.get("root") or DASH),
            ("parent", model.get("parent") or DASH),
        ]
    )


def readable(obj: Any) -> str:
    """A person's view of any object the API returns."""
    if not isinstance(obj, dict):
        return str(obj)
    kind = obj.get("object")
    if kind == "list":
        data: list[dict[str, Any]] = obj.get("data", [])
        inner = data[0].get("object") if data else None
        if inner == "file":
            return file_rows(data)
        if inner == "fine-tune":
            return fine_tune_rows(data)
        if inner == "model":
            return model_rows(data)
        if inner == "fine-tune-event":
            return "\n".join(event_line(event) for event in data)
        return "(none)"
    if obj.get("deleted") is True:
        return f"Deleted {kind or 'object'} {obj.get('id')}"
    if kind == "file":
        return file_rows([obj])
    if kind == "fine-tune":
        return fine_tune_summary(obj)
    if kind == "model":
        return model_summary(obj)
    return json.dumps(obj, indent=2)


@dataclass
class Output:
    """Where the CLI writes, and how (`--json` prints the server's objects as they came, 2-space indented)."""

    out: TextIO
    err: TextIO
    json: bool = False

    def show(self, obj: Any) -> None:
        self.print(json.dumps(obj, indent=2) if self.json else readable(obj))

    def print(self, text: str = "", *, end: str = "\n") -> None:
        self.out.write(text + end)
        self.out.flush()

    def info(self, text: str = "", *, end: str = "\n") -> None:
        """A line for the person: stdout normally, stderr under --json (so stdout stays parseable)."""
        stream = self.err if self.json else self.out
        stream.write(text + end)
        stream.flush()

    def error(self, text: str) -> None:
        self.err.write(text + "\n")
        self.err.flush()

    def is_terminal(self) -> bool:
        return bool(getattr(self.out, "isatty", lambda: False)())


class UploadBar:
    """`Upload progress: 100%|██████████| 13.0k/13.0k` on stderr, redrawn in place on a terminal."""

    WIDTH = 10

    def __init__(self, err: TextIO) -> None:
        self.err = err
        self.live = bool(getattr(err, "isatty", lambda: False)())
        self.last = (0, 0)

    def text(self, sent: int, total: int) -> str:
        share = sent / total if total else 1.0
        filled = int(share * self.WIDTH)
        bar = "█" * filled + " " * (self.WIDTH - filled)
        return f"Upload progress: {int(share * 100):3d}%|{bar}| {human_size(sent)}/{human_size(total)}"

    def __call__(self, sent: int, total: int) -> None:
        self.last = (sent, total)
        if self.live:
            self.err.write("\r" + self.text(sent, total))
            self.err.flush()

    def finish(self, total: int) -> None:
        self.err.write(("\r" if self.live else "") + self.text(total, total) + "\n")
        self.err.flush()
