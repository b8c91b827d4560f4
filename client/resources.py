"""The namespaces files, fine_tunes, models and completions: one method per endpoint the emulator serves."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, Literal, cast, overload

import httpx

from client._http import EventSource, Transport, backoff, quote_id
from client.errors import APIConnectionError
from client.types import (
    TERMINAL_STATUSES,
    Completion,
    DeletedObject,
    FileObject,
    FineTune,
    FineTuneEvent,
    ListObject,
    Model,
)

Progress = Callable[[int, int], None]
MAX_RECONNECTS = 5


class _ProgressReader(io.RawIOBase):
    """A readable file that reports (bytes sent, total) to a callback as httpx pulls chunks from it."""

    def __init__(self, source: IO[bytes], total: int, progress: Progress) -> None:
        self.source = source
        self.total = total
        self.sent = 0
        self.progress = progress

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        self.sent = 0 if offset == 0 and whence == 0 else self.sent
        return self.source.seek(offset, whence)

    def read(self, size: int = -1) -> bytes:
        chunk = self.source.read(size)
        self.sent += len(chunk)
        if chunk:
            self.progress(self.sent, self.total)
        return chunk


class Files:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create(
        self,
        file: str | Path | bytes | IO[bytes],
        purpose: str = "fine-tune",
        *,
        filename: str | None = None,
        progress: Progress | None = None,
    ) -> FileObject:
        """Upload a path, bytes or a binary file; `filename` defaults to the path as given (like the CLI)."""
        if isinstance(file, str | Path):
            with open(file, "rb") as handle:
                return self.create(handle, purpose, filename=filename or str(file), progress=progress)
        source: IO[bytes] = io.BytesIO(file) if isinstance(file, bytes) else file
        source.seek(0, io.SEEK_END)
        total = source.tell()
        source.seek(0)
        body: IO[bytes] = source
        if progress is not None:
            body = cast(IO[bytes], _ProgressReader(source, total, progress))
        name = filename or getattr(file, "name", None) or "file"
        files = {"file": (str(name), body, "application/octet-stream")}
        return cast(FileObject, self._t.request("POST", "files", files=files, data={"purpose": purpose}))

    def list(self) -> ListObject[FileObject]:
        return cast(ListObject[FileObject], self._t.request("GET", "files"))

    def retrieve(self, file_id: str) -> FileObject:
        return cast(FileObject, self._t.request("GET", f"files/{quote_id(file_id)}"))

    def delete(self, file_id: str) -> DeletedObject:
        return cast(DeletedObject, self._t.request("DELETE", f"files/{quote_id(file_id)}"))

    def content(self, file_id: str) -> bytes:
        return self._t.request_bytes("GET", f"files/{quote_id(file_id)}/content")


class FineTunes:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create(
        self,
        training_file: str,
        *,
        validation_file: str | None = None,
        model: str | None = None,
        suffix: str | None = None,
        n_epochs: int | None = None,
        batch_size: int | None = None,
        learning_rate_multiplier: float | None = None,
        prompt_loss_weight: float | None = None,
        compute_classification_metrics: bool | None = None,
        classification_n_classes: int | None = None,
        classification_positive_class: str | None = None,
        classification_betas: list[float] | None = None,
    ) -> FineTune:
        """Only the given fields are sent (as the real CLI does)."""
        given = {
            "training_file": training_file,
            "validation_file": validation_file,
            "model": model,
            "suffix": suffix,
            "n_epochs": n_epochs,
            "batch_size": batch_size,
            "learning_rate_multiplier": learning_rate_multiplier,
            "prompt_loss_weight": prompt_loss_weight,
            "compute_classification_metrics": compute_classification_metrics,
            "classification_n_classes": classification_n_classes,
            "classification_positive_class": classification_positive_class,
            "classification_betas": classification_betas,
        }
        body = {key: value for key, value in given.items() if value is not None}
        return cast(FineTune, self._t.request("POST", "fine-tunes", json=body))

    def list(self) -> ListObject[FineTune]:
        return cast(ListObject[FineTune], self._t.request("GET", "fine-tunes"))

    def retrieve(self, fine_tune_id: str) -> FineTune:
        return cast(FineTune, self._t.request("GET", f"fine-tunes/{quote_id(fine_tune_id)}"))

    def cancel(self, fine_tune_id: str) -> FineTune:
        return cast(FineTune, self._t.request("POST", f"fine-tunes/{quote_id(fine_tune_id)}/cancel"))

    def list_events(self, fine_tune_id: str) -> ListObject[FineTuneEvent]:
        path = f"fine-tunes/{quote_id(fine_tune_id)}/events"
        return cast(ListObject[FineTuneEvent], self._t.request("GET", path))

    def follow(self, fine_tune_id: str, *, max_reconnects: int = MAX_RECONNECTS) -> Iterator[FineTuneEvent]:
        """Every event of the job, oldest first, until the stream says `[DONE]`.

        When a stream ends early or breaks, reconnect: the server replays the whole history, so the first
        `yielded` events of the new stream are skipped. A stream that delivered events resets the count of
        failed attempts; `max_reconnects` failures in a row raise APIConnectionError.
        """
        path = f"fine-tunes/{quote_id(fine_tune_id)}/events"
        yielded = 0
        failures = 0
        while True:
            received = 0
            try:
                with self._t.stream("GET", path, params={"stream": "true"}) as response:
                    source = EventSource(response)
                    for event in source:
                        received += 1
                        if received > yielded:
                            yielded = received
                            yield cast(FineTuneEvent, event)
                    if source.done:
                        return
            except APIConnectionError as exc:
                last_error: APIConnectionError | None = exc
            else:
                last_error = None
            failures = 0 if received else failures + 1
            if failures > max_reconnects:
                raise APIConnectionError(
                    f"The event stream of {fine_tune_id} closed early {failures} times in a row"
                ) from last_error
            if failures:
                self._t.sleep(backoff(failures - 1))

    def wait(self, fine_tune_id: str, *, on_event: Callable[[FineTuneEvent], None] | None = None) -> FineTune:
        """Follow the job until it is over (reconnecting as needed) and return its final state."""
        while True:
            for event in self.follow(fine_tune_id):
                if on_event is not None:
                    on_event(event)
            job = self.retrieve(fine_tune_id)
            if job.get("status") in TERMINAL_STATUSES:
                return job
            self._t.sleep(1.0)  # the stream ended but the job goes on: look again shortly


class Models:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def list(self) -> ListObject[Model]:
        return cast(ListObject[Model], self._t.request("GET", "models"))

    def retrieve(self, model: str) -> Model:
        return cast(Model, self._t.request("GET", f"models/{quote_id(model)}"))

    def delete(self, model: str) -> DeletedObject:
        return cast(DeletedObject, self._t.request("DELETE", f"models/{quote_id(model)}"))


class Completions:
    def __init__(self, transport: Transport) -> None:
        self._t = transport

    @overload
    def create(
        self,
        model: str | None = ...,
        prompt: Any = ...,
        *,
        stream: Literal[False] = ...,
        engine: str | None = ...,
        **params: Any,
    ) -> Completion: ...

    @overload
    def create(
        self,
        model: str | None = ...,
        prompt: Any = ...,
        *,
        stream: Literal[True],
        engine: str | None = ...,
        **params: Any,
    ) -> Iterator[Completion]: ...

    def create(
        self,
        model: str | None = None,
        prompt: Any = None,
        *,
        stream: bool = False,
        engine: str | None = None,
        **params: Any,
    ) -> Completion | Iterator[Completion]:
        """POST /completions (or /engines/{engine}/completions); `stream=True` yields the chunks."""
        body: dict[str, Any] = {key: value for key, value in params.items() if value is not None}
        if model is not None:
            body["model"] = model
        if prompt is not None:
            body["prompt"] = prompt
        path = f"engines/{quote_id(engine)}/completions" if engine else "completions"
        if not stream:
            return cast(Completion, self._t.request("POST", path, json=body))
        body["stream"] = True
        return _chunks(self._t.open_stream("POST", path, json=body))


def _chunks(response: httpx.Response) -> Iterator[Completion]:
    try:
        for chunk in EventSource(response):
            yield cast(Completion, chunk)
    finally:
        response.close()
