"""`ftemu api fine_tunes.follow`: event lines, a live status line on a terminal, and a clean Ctrl-C."""

from __future__ import annotations

import json
import re
from typing import Any

from client._client import Client
from client.cli_output import Output, event_line
from client.errors import APIConnectionError

QUEUE = re.compile(r"Queue number: (\d+)")
EPOCH = re.compile(r"^Completed epoch (\d+)/(\d+)")
CLEAR = "\r\x1b[K"


class StatusLine:
    """Stage, epoch k/n and queue number, drawn under the event lines on a terminal only."""

    def __init__(self, output: Output, n_epochs: int | None, status: str, *, enabled: bool) -> None:
        self.output = output
        self.enabled = enabled
        self.n_epochs = n_epochs
        self.stage = status
        self.detail = ""
        self.shown = False

    def update(self, message: str) -> None:
        queue = QUEUE.search(message)
        epoch = EPOCH.match(message)
        if message.startswith("Created fine-tune"):
            self.stage, self.detail = "pending", "processing the training file"
        elif queue:
            self.stage, self.detail = "pending", f"queue number {queue.group(1)}"
        elif message == "Fine-tune started":
            self.stage, self.detail = "running", f"epoch 0/{self.n_epochs or '?'}"
        elif epoch:
            self.stage, self.detail = "running", f"epoch {epoch.group(1)}/{epoch.group(2)}"
        elif message.startswith("Uploaded model"):
            self.stage, self.detail = "running", "uploading the model and results"
        elif message.startswith(("Fine-tune succeeded", "Fine-tune cancelled", "Fine-tune failed")):
            self.stage, self.detail = message.split()[1].rstrip(":."), ""

    def text(self) -> str:
        return f"[{self.stage}] {self.detail}".rstrip()

    def draw(self) -> None:
        if self.enabled:
            self.output.print(CLEAR + self.text(), end="")
            self.shown = True

    def clear(self) -> None:
        if self.enabled and self.shown:
            self.output.print(CLEAR, end="")
            self.shown = False


def command(prefix: str, name: str, job_id: str) -> str:
    return f"{prefix} {name} -i {job_id}"


def interrupted(output: Output, client: Client, job_id: str, prefix: str) -> int:
    """Ctrl-C: the job keeps running; say how to come back or stop it."""
    status = client.fine_tunes.retrieve(job_id)["status"]
    output.print(
        f"\nStream interrupted. Job is still {status}.\nTo resume the stream, run:\n\n"
        f"  {command(prefix, 'fine_tunes.follow', job_id)}\n\nTo cancel your job, run:\n\n"
        f"  {command(prefix, 'fine_tunes.cancel', job_id)}\n"
    )
    return 0


def disconnected(output: Output, job_id: str, prefix: str, reason: Exception) -> int:
    output.error(f"Error: {reason}")
    output.print(
        f"\nStream interrupted (client disconnected).\nTo resume the stream, run:\n\n"
        f"  {command(prefix, 'fine_tunes.follow', job_id)}\n"
    )
    return 1


def finished(output: Output, job: dict[str, Any], prefix: str) -> None:
    if job["status"] == "succeeded":
        output.print(
            f"\nJob complete! Status: succeeded 🎉\nTry out your fine-tuned model:\n\n"
            f"{prefix} completions.create -m {job['fine_tuned_model']} -p <YOUR_PROMPT>"
        )
    elif job["status"] == "failed":
        output.print("\nJob failed. Look at the events above for the reason.")
    else:
        output.print(f"\nJob {job['status']}.")


def follow(client: Client, job_id: str, output: Output, prefix: str = "ftemu api") -> int:
    """Print every event until the job is over; reconnects are the library's business."""
    job = client.fine_tunes.retrieve(job_id)
    n_epochs = job.get("hyperparams", {}).get("n_epochs")
    line = StatusLine(output, n_epochs, job["status"], enabled=output.is_terminal() and not output.json)
    try:
        for event in client.fine_tunes.follow(job_id):
            line.clear()
            output.print(json.dumps(event) if output.json else event_line(dict(event)))
            line.update(event["message"])
            line.draw()
    except KeyboardInterrupt:
        line.clear()
        return interrupted(output, client, job_id, prefix)
    except APIConnectionError as exc:
        line.clear()
        return disconnected(output, job_id, prefix, exc)
    line.clear()
    if not output.json:
        finished(output, dict(client.fine_tunes.retrieve(job_id)), prefix)
    return 0
