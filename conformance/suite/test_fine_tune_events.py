"""Fine-tune events (§2.10, §1.5): the list, the stream's replay, framing and live push."""

from __future__ import annotations

import pytest

from conformance.handle import Ftemu
from conformance.suite.support import create_fine_tune

behaviour = pytest.mark.behaviour
pytestmark = [pytest.mark.ftemu(speed="60"), pytest.mark.spend(0.01)]


@behaviour("§2.10", "Listing events gives `{object: list, data}` oldest first, the same as the job's events")
def test_list_fine_tune_events(ftemu: Ftemu) -> None:
    job = ftemu.wait_for_fine_tune(create_fine_tune(ftemu)["id"], {"succeeded"})
    body = ftemu.http.get(f"/fine-tunes/{job['id']}/events").json()
    assert list(body) == ["object", "data"] and body["object"] == "list"
    assert body["data"] == job["events"]
    assert all(list(event) == ["object", "level", "message", "created_at"] for event in body["data"])


@behaviour("§2.10, §1.5", "`?stream=true` on a finished job replays every event as `data:` lines, then `[DONE]`")
def test_stream_fine_tune_events_replays_history(ftemu: Ftemu) -> None:
    job = ftemu.wait_for_fine_tune(create_fine_tune(ftemu)["id"], {"succeeded"})
    payloads = ftemu.stream_events(job["id"])
    assert payloads[:-1] == job["events"] and payloads[-1] == "[DONE]"


@behaviour("§2.10", "Each streamed event is framed `data: {json}` followed by a blank line")
def test_stream_fine_tune_events_framing(ftemu: Ftemu) -> None:
    job = ftemu.wait_for_fine_tune(create_fine_tune(ftemu)["id"], {"succeeded"})
    with ftemu.http.stream("GET", f"/fine-tunes/{job['id']}/events?stream=true") as response:
        text = response.read().decode()
    assert response.headers["content-type"].startswith("text/event-stream")
    blocks = text.split("\n\n")
    assert blocks[-1] == "" and blocks[-2] == "data: [DONE]"
    assert len(blocks) == len(job["events"]) + 2
    assert all(block.startswith("data: {") and "\n" not in block for block in blocks[:-2])


@pytest.mark.emulator_only
@pytest.mark.ftemu(speed="60", clock="manual")
@behaviour("§2.10", "A stream opened on a running job pushes new events live and ends with `[DONE]`")
def test_stream_fine_tune_events_live(ftemu: Ftemu) -> None:
    import threading

    job = create_fine_tune(ftemu)
    seen: list[object] = []
    reader = threading.Thread(target=lambda: seen.extend(ftemu.stream_events(job["id"])))
    reader.start()
    done = ftemu.wait_for_fine_tune(job["id"], {"succeeded"})
    reader.join(timeout=30)
    assert not reader.is_alive()
    assert seen == [*done["events"], "[DONE]"]
