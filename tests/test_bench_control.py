"""bench/bench_control.py's HTTP baseline: one process, the app with and without the control plane side by side."""

from __future__ import annotations

import httpx2

from bench.bench_control import BothApps
from conformance.transport import SyncASGITransport
from tests.conftest import AUTH, fast_settings


def test_both_apps_serve_the_same_answer_and_only_one_journals_it() -> None:
    both = BothApps(fast_settings())
    http = httpx2.Client(transport=SyncASGITransport(both), base_url="http://ftemu", headers=AUTH)
    with_it, without_it = http.get("/with/v1/models"), http.get("/without/v1/models")
    assert with_it.status_code == without_it.status_code == 200
    assert with_it.json() == without_it.json()
    assert with_it.headers["x-request-id"].startswith("req_") and without_it.headers["x-request-id"].startswith("req_")
    journals = {prefix: app.state.core.journal.entries() for prefix, app in both.apps.items()}
    assert [entry.path for entry in journals["/with"]] == ["/v1/models"] and journals["/without"] == []
    counts = {prefix: count for prefix, (_, count) in http.get("/stats").json().items()}
    assert counts == {"/with": 1, "/without": 1}
    assert {prefix: count for prefix, (_, count) in http.get("/stats").json().items()} == {"/with": 0, "/without": 0}
