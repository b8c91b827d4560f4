"""GET /v1/files pages in SQL: for any files, deletes and query it answers what cursor_page answers, byte for byte."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.responses import JSONResponse

from emulator import create_app
from emulator.core.errors import APIError
from emulator.http.pagination import cursor_page, page_query
from emulator.resources.files import file_object
from emulator.store import FileRecord
from tests.conftest import fast_settings, in_process, upload

PURPOSES = ("fine-tune", "assistants")
operations = st.lists(st.tuples(st.sampled_from(PURPOSES), st.booleans()), max_size=8)
queries = st.fixed_dictionaries(
    {
        "after": st.none() | st.integers(min_value=0, max_value=8),
        "limit": st.none() | st.integers(min_value=1, max_value=4),
        "order": st.none() | st.sampled_from(("asc", "desc")),
        "purpose": st.none() | st.sampled_from((*PURPOSES, "batch")),
    }
)


def expected(records: list[FileRecord], query: dict[str, str]) -> tuple[int, bytes]:
    """The answer of the list as it was: every record in Python, through cursor_page."""
    purpose = query.get("purpose")
    try:
        page = cursor_page(
            records,
            page_query(query, default_limit=10_000, max_limit=10_000),
            id_of=lambda record: record.id,
            render=file_object,
            keep=lambda record: not record.deleted and (purpose is None or record.purpose == purpose),
            with_ids=True,
        )
    except APIError as error:
        return error.status, b""
    return 200, JSONResponse(page).body


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations=operations, query=queries)
def test_list_files_pages_as_cursor_page_does(operations: list[tuple[str, bool]], query: dict[str, Any]) -> None:
    app = create_app(fast_settings())
    try:
        core = app.state.core
        org = core.auth.default
        for number, (purpose, deleted) in enumerate(operations):
            record = FileRecord(f"file-{number}", org.id, purpose, f"{number}.jsonl", 9, 0, "processed", None, False)
            core.store.insert_file(record)
            if deleted:
                core.store.delete_file(record.id)
        if query["after"] is not None:
            query["after"] = f"file-{query['after']}"  # file-8: a cursor the organisation never had
        shown = {key: str(value) for key, value in query.items() if value is not None}
        response = in_process(app).get("/files", params=shown)
        status, body = expected(core.store.list_files(org.id, include_deleted=True), shown)
        assert response.status_code == status
        if status == 200:
            assert response.content == body
    finally:
        app.state.core.close()


def test_list_files_follows_processing_and_deletes(api: Any) -> None:
    """A listed file's rendering follows its row: uploaded, processed, then gone once deleted."""
    first = upload(api, b'{"prompt": "a", "completion": " b"}\n')
    second = upload(api, b'{"prompt": "c", "completion": " d"}\n', name="é.jsonl")
    listed = api.get("/files").json()["data"]
    assert [(f["id"], f["status"], f["filename"]) for f in listed] == [
        (second["id"], "processed", "é.jsonl"),
        (first["id"], "processed", "train.jsonl"),
    ]
    assert api.delete(f"/files/{second['id']}").status_code == 200
    assert [f["id"] for f in api.get("/files").json()["data"]] == [first["id"]]
    assert api.get("/files", params={"after": second["id"]}).json()["data"][0]["id"] == first["id"]
