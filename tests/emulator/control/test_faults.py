"""HTTP faults against the current SDK with its default retries, in-process and over a socket (plugin fixtures)."""

from __future__ import annotations

import asyncio
import gc
import json
import subprocess
import sys
from pathlib import Path

import httpx2
import openai
import pytest

from conformance.handle import Ftemu
from conformance.transport import SyncASGITransport
from emulator import Settings, create_app
from tests.conftest import AUTH

BOTH = pytest.mark.parametrize("ftemu_link", ["in-process", "socket"])
ROOT = Path(__file__).resolve().parents[3]
MODELS = ["ada", "babbage", "curie", "davinci"]  # the list starts with the four legacy base models


def statuses(ftemu: Ftemu, **filters: str) -> list[int | None]:
    return [entry["status"] for entry in ftemu.journal(**filters)]


@BOTH
def test_list_models_retries_one_429_then_succeeds(ftemu: Ftemu, ftemu_openai: openai.OpenAI) -> None:
    fault = ftemu.faults.add(method="GET", path="/v1/models", status=429, headers={"retry-after-ms": "20"}, times=1)
    assert fault["id"].startswith("fault_") and fault["remaining"] == 1
    assert [model.id for model in ftemu_openai.models.list().data][:4] == MODELS
    journal = ftemu.journal()
    assert [(e["method"], e["path"], e["status"], e["fault"]) for e in journal] == [
        ("GET", "/v1/models", 429, fault["id"]),
        ("GET", "/v1/models", 200, None),
    ]
    assert ftemu.faults.list() == []


@BOTH
def test_list_models_gives_up_after_three_503s(ftemu: Ftemu, ftemu_openai: openai.OpenAI) -> None:
    ftemu.faults.add(method="GET", path="/v1/models", status=503, headers={"retry-after-ms": "5"}, times=3)
    with pytest.raises(openai.InternalServerError) as raised:
        ftemu_openai.models.list()
    assert raised.value.status_code == 503
    assert raised.value.body == {
        "message": "The server is overloaded or not ready yet.",
        "type": "server_error",
        "param": None,
        "code": None,
    }
    assert statuses(ftemu) == [503, 503, 503]


@BOTH
def test_x_should_retry_false_is_not_retried(ftemu: Ftemu, ftemu_openai: openai.OpenAI) -> None:
    ftemu.faults.add(method="GET", path="/v1/models", status=500, headers={"x-should-retry": "false"}, times=5)
    with pytest.raises(openai.InternalServerError):
        ftemu_openai.models.list()
    assert statuses(ftemu) == [500]
    assert ftemu.faults.list()[0]["remaining"] == 4


@BOTH
def test_completion_stream_cut_after_two_chunks(ftemu: Ftemu, ftemu_openai: openai.OpenAI) -> None:
    ftemu.faults.add(method="POST", path="/v1/completions", kind="stream_cut", after_chunks=2)
    stream = ftemu_openai.completions.create(model="curie", prompt="Hello", max_tokens=8, stream=True)
    received = []
    with pytest.raises(openai.APIConnectionError):
        for chunk in stream:
            received.append(chunk)
    assert len(received) == 2
    [entry] = ftemu.journal()
    assert entry["status"] == 200 and entry["outcome"] == "stream_cut after 2 chunks"
    assert entry["body"]["json"] == {"model": "curie", "prompt": "Hello", "max_tokens": 8, "stream": True}


@BOTH
def test_reset_before_the_response_is_a_connection_error(ftemu: Ftemu, ftemu_openai: openai.OpenAI) -> None:
    ftemu.faults.add(method="GET", path="/v1/models", kind="reset", times=2)
    assert [model.id for model in ftemu_openai.models.list().data][:4] == MODELS
    assert [(e["status"], e["outcome"]) for e in ftemu.journal()] == [
        (None, "reset"),
        (None, "reset"),
        (200, "complete"),
    ]


@BOTH
def test_truncated_body_is_retried_and_malformed_body_fails_to_parse(ftemu: Ftemu, ftemu_openai: openai.OpenAI) -> None:
    ftemu.faults.add(method="GET", path="/v1/models/{model}", kind="truncate")
    assert ftemu_openai.models.retrieve("curie").id == "curie"
    ftemu.faults.add(method="GET", path="/v1/models/{model}", kind="malformed")
    with pytest.raises(json.JSONDecodeError):  # the SDK does not wrap a body that is not JSON
        ftemu_openai.models.retrieve("curie")
    outcomes = [(e["status"], e["outcome"]) for e in ftemu.journal()]
    assert outcomes == [(200, "truncated"), (200, "complete"), (200, "malformed")]


@BOTH
def test_fault_header_applies_to_that_request_only(ftemu: Ftemu, ftemu_openai: openai.OpenAI) -> None:
    with pytest.raises(openai.RateLimitError) as raised:
        ftemu_openai.models.list(extra_headers={"x-ftemu-fault": '{"status": 429, "retry_after_ms": 1}'}, timeout=5)
    assert raised.value.code == "rate_limit_exceeded"
    assert ftemu_openai.models.retrieve("ada").id == "ada"
    assert statuses(ftemu) == [429, 429, 429, 200]
    assert [e["fault"] for e in ftemu.journal()] == ["header", "header", "header", None]


def test_429_has_the_real_body_and_headers(ftemu: Ftemu) -> None:
    ftemu.faults.add(method="*", path="/v1/*", status=429, retry_after_ms=1500)
    response = ftemu.http.get("/files")
    assert response.status_code == 429
    organization = ftemu.journal()[0]["organization"]
    org_id = ftemu.http.get("/fine-tunes").headers.get("openai-organization")
    assert organization == org_id == "personal"
    assert response.json() == {
        "error": {
            "message": "Rate limit reached for requests in organization "
            f"{response.json()['error']['message'].split('organization ')[1].split(' ')[0]} on requests per min "
            "(RPM): Limit 3, Used 3, Requested 1. Please try again in 1.5s. Visit "
            "https://platform.openai.com/account/rate-limits to learn more.",
            "type": "requests",
            "param": None,
            "code": "rate_limit_exceeded",
        }
    }
    assert response.json()["error"]["message"].split("organization ")[1].startswith("org-")
    headers = response.headers
    assert (headers["retry-after"], headers["retry-after-ms"]) == ("2", "1500")
    assert headers["x-ratelimit-remaining-requests"] == "0" and headers["x-ratelimit-reset-requests"] == "1500ms"
    assert headers["x-request-id"].startswith("req_") and headers["openai-version"] == "2020-10-01"


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, ("The server had an error while processing your request. Sorry about that!", "server_error", None)),
        (502, ("Bad gateway.", "cf_bad_gateway", 502)),
        (504, ("Gateway timeout.", "cf_gateway_timeout", 504)),
    ],
)
def test_server_errors_have_the_real_bodies(ftemu: Ftemu, status: int, body: tuple[str, str, int | None]) -> None:
    ftemu.faults.add(path="/v1/models", status=status)
    response = ftemu.http.get("/models")
    message, kind, code = body
    assert (response.status_code, response.json()) == (
        status,
        {"error": {"message": message, "type": kind, "param": None, "code": code}},
    )


def test_latency_fault_delays_then_answers(ftemu: Ftemu) -> None:
    ftemu.faults.add(path="/v1/models", kind="latency", latency_ms=30)
    assert ftemu.http.get("/models").status_code == 200
    [entry] = ftemu.journal()
    assert entry["fault"] is not None and entry["outcome"] == "complete"


def test_faults_match_by_method_and_pattern_and_clear(ftemu: Ftemu) -> None:
    ftemu.faults.add(method="POST", path="/v1/files", status=500, times=None)
    ftemu.faults.add(method="GET", path="/v1/files/{id}/content", status=502, times=None)
    assert ftemu.http.get("/files").status_code == 200
    assert ftemu.http.get("/files/file-x/content").status_code == 502
    assert ftemu.http.get("/files/file-x").status_code == 404
    assert ftemu.http.post("/files", data={"purpose": "fine-tune"}).status_code == 500
    assert [fault["hits"] for fault in ftemu.faults.list()] == [1, 1]
    ftemu.faults.clear()
    assert ftemu.faults.list() == []
    assert ftemu.http.get("/files/file-x/content").status_code == 404


def test_create_fault_bad_input_is_an_envelope(ftemu: Ftemu) -> None:
    url = ftemu.instance.control_url("/faults")
    cases = [
        ({"status": "429"}, "'429' is not of type 'int' - 'status'", "status"),
        ({"kind": "error"}, "An error fault needs a 'status'.", "status"),
        (
            {"kind": "explode"},
            "'explode' is not one of ['error', 'latency', 'reset', 'truncate', 'malformed', 'stream_cut'] - 'kind'",
            "kind",
        ),
        ({"status": 503, "rate": 2}, "2 is greater than the maximum of 1 - 'rate'", "rate"),
        ({"status": 503, "colour": "red"}, "Unrecognized fault field: 'colour'", "colour"),
    ]
    for body, message, param in cases:
        response = ftemu.http.post(url, json=body)
        assert (response.status_code, response.json()) == (
            400,
            {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": None}},
        )


def test_journal_keeps_a_body_only_with_its_content_type_and_a_401s_key_unnamed(ftemu: Ftemu) -> None:
    ftemu.http.post("/chat/completions", content=b'{"model": "gpt-4o-mini"}')  # no content type: not kept
    big = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x" * 3000}]}).encode()
    ftemu.http.post("/chat/completions", content=big, headers={"Content-Type": "application/json"})
    ftemu.http.get("/models", headers={"Authorization": "Bearer"})
    bare, large, unauthorized = ftemu.journal()
    assert (bare["method"], bare["path"], bare["body"]) == ("POST", "/v1/chat/completions", None)
    assert large["body"] == {"content_type": "application/json", "bytes": len(big)}  # too large to keep the JSON
    assert (unauthorized["status"], unauthorized["organization"]) == (401, None)


def test_journal_records_organization_query_body_and_filters(ftemu: Ftemu) -> None:
    ftemu.upload(b'{"prompt": "a", "completion": " b"}\n')
    ftemu.http.get("/fine-tunes", params={"limit": "2"})
    ftemu.http.get("/models/nope")
    upload, listing, missing = ftemu.journal()
    assert (upload["method"], upload["path"], upload["status"]) == ("POST", "/v1/files", 200)
    assert upload["body"]["content_type"] == "multipart/form-data" and upload["body"]["fields"] == ["file", "purpose"]
    assert upload["organization"] == "personal" and upload["direction"] == "incoming"
    assert (listing["query"], listing["body"]) == ("limit=2", None)
    assert missing["status"] == 404
    assert [e["path"] for e in ftemu.journal(method="post")] == ["/v1/files"]
    assert [e["path"] for e in ftemu.journal(status=404)] == ["/v1/models/nope"]
    assert len(ftemu.journal(path="/v1/f*")) == 2
    ftemu.journal.clear()
    assert ftemu.journal() == []


def test_journal_times_requests_on_the_clock_a_reset_put_in(ftemu: Ftemu) -> None:
    ftemu.http.get("/models")  # the control plane has served a request before the reset
    ftemu.advance(3600)
    ftemu.reset()
    now = ftemu.advance(60)["now"]
    ftemu.http.get("/models")
    assert [entry["created_at"] for entry in ftemu.journal(path="/v1/models")] == [now]


def test_journal_records_leave_the_garbage_collectors_heap() -> None:
    # A full journal is 10,000 records: as tuples of plain values the collector stops tracking them at its
    # first pass, so they add nothing to the heap every full collection walks.
    app = create_app(Settings(memory=True, clock="manual", seed=7))
    http = httpx2.Client(transport=SyncASGITransport(app), base_url="http://ftemu/v1", headers=AUTH)
    http.get("/models")
    http.post("/files", files={"file": ("t.jsonl", b'{"prompt": "a", "completion": " b"}\n')}, data={"purpose": "x"})
    http.get("/models", headers={"x-ftemu-fault": "503"})
    http.get("/models", headers={"Authorization": "Bearer"})
    gc.collect()
    records = list(app.state.core.journal._entries)
    assert len(records) == 4 and not any(gc.is_tracked(record) for record in records)
    assert [(e.status, e.organization) for e in app.state.core.journal.entries()] == [
        (200, "personal"),
        (400, "personal"),
        (503, "personal"),
        (401, None),
    ]


def test_rate_is_deterministic_under_the_seed(ftemu: Ftemu) -> None:
    def pattern() -> list[int]:
        ftemu.reset()
        ftemu.faults.add(path="/v1/models", status=503, rate=0.5, times=None)
        return [ftemu.http.get("/models").status_code for _ in range(16)]

    first = pattern()
    assert first == pattern()
    assert set(first) == {200, 503}


@BOTH
def test_async_client_retries_like_the_sync_one(ftemu: Ftemu, ftemu_async_openai: openai.AsyncOpenAI) -> None:
    ftemu.faults.add(method="GET", path="/v1/models", status=429, headers={"retry-after-ms": "20"})

    async def run() -> list[str]:
        page = await ftemu_async_openai.models.list()
        await ftemu_async_openai.close()
        return [model.id for model in page.data][:4]

    assert asyncio.run(run()) == MODELS
    assert statuses(ftemu) == [429, 200]


def test_sdk_in_process_needs_no_socket(ftemu: Ftemu) -> None:
    client = ftemu.sdk()
    assert isinstance(client._client._transport, SyncASGITransport)
    assert client.models.retrieve("davinci").id == "davinci"


def test_sdk_in_process_upload_lets_the_process_exit() -> None:
    # The upload route runs in anyio's worker thread, which stops only when its task's done callbacks have run.
    script = (
        "import io, httpx2, openai\n"
        "from conformance.transport import SyncASGITransport\n"
        "from emulator import Settings, create_app\n"
        "http = httpx2.Client(transport=SyncASGITransport(create_app(Settings(memory=True))))\n"
        "client = openai.OpenAI(api_key='sk-test-0123456789', base_url='http://ftemu/v1', http_client=http)\n"
        "print(client.files.create(file=('a.jsonl', io.BytesIO(b'{}\\n')), purpose='batch').status)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30, cwd=ROOT)
    assert (done.returncode, done.stdout.strip()) == (0, "uploaded"), done.stderr
