"""Cursor paging for every list endpoint: `after`, `limit` (with bounds), `order`, `has_more`, `first_id`/`last_id`.

Two calls make a page:

    query = page_query(request.query_params, default_limit=20, max_limit=100)          # 400s on bad values
    body = cursor_page(items, query, id_of=lambda r: r.id, render=render, with_ids=True)

`items` are every object the list could show, **oldest first** (deleted ones too, with `keep` hiding them, so a
cursor naming an object deleted since the last page still works). The page holds the first `limit` kept items
strictly after the cursor in the asked order (`desc`: newest first); `has_more` says whether any kept item follows.
The current SDKs stop when `has_more` is false and otherwise ask again with `after=<id of the last item>`.

GET /v1/files follows the same rules in SQL (store.page_file_rows; its tests compare it with cursor_page), and
lists that grow with the store hand over their items as JSON already (`json_list`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from starlette.responses import Response

from emulator.core.errors import APIError, invalid_request

T = TypeVar("T")
_INTEGER = re.compile(r"[+-]?[0-9]{1,20}")
Order = Literal["asc", "desc"]
ORDERS: tuple[Order, ...] = ("asc", "desc")


@dataclass(frozen=True)
class PageQuery:
    """A list request's paging: the cursor, the page size and the order."""

    after: str | None
    limit: int
    order: Order


def query_integer(value: str | None, name: str, default: int, *, minimum: int, maximum: int) -> int:
    """An integer query parameter within [minimum, maximum], worded like the real validator."""
    if value is None:
        return default
    if not _INTEGER.fullmatch(value.strip()):
        raise invalid_request(f"{value!r} is not of type 'integer' - '{name}'", param=name)
    number = int(value)
    if number < minimum:
        raise invalid_request(f"{number} is less than the minimum of {minimum} - '{name}'", param=name)
    if number > maximum:
        raise invalid_request(f"{number} is greater than the maximum of {maximum} - '{name}'", param=name)
    return number


def query_choice(value: str | None, name: str, choices: Sequence[str], default: str) -> str:
    """A query parameter that must be one of `choices`."""
    if value is None:
        return default
    if value not in choices:
        raise invalid_request(f"{value!r} is not one of {list(choices)} - '{name}'", param=name)
    return value


def page_query(
    query: Mapping[str, str],
    *,
    default_limit: int,
    max_limit: int,
    default_order: Order = "desc",
    order_param: bool = True,
) -> PageQuery:
    """Read `after`, `limit` and (when the endpoint has it) `order` from the query string; a bad value is a 400."""
    limit = query_integer(query.get("limit"), "limit", default_limit, minimum=1, maximum=max_limit)
    order = default_order
    if order_param:
        order = "asc" if query_choice(query.get("order"), "order", ORDERS, default_order) == "asc" else "desc"
    after = query.get("after")
    return PageQuery(after=after or None, limit=limit, order=order)


def unpaged(data: list[dict[str, Any]]) -> dict[str, Any]:
    """A list its generation's spec does not page (legacy /fine-tunes and its events): every object, one request.

    No `has_more`: the SDKs read such lists as a single SyncPage (`next_page_info` is None), and the legacy
    spec's ListFineTunesResponse has only `object` and `data`.
    """
    return {"object": "list", "data": data}


def json_text(value: Any) -> str:
    """JSON exactly as a response renders it (Starlette's JSONResponse: compact, UTF-8, no NaN)."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":"))


_LIST_HEAD = b'{"object":"list","data":['


def json_list(items: list[bytes], **rest: Any) -> Response:
    """A list whose items are rendered already (json_text, encoded): the bytes `{"object": "list", "data": [...],
    **rest}` would render to, without decoding or encoding an item again (and copied twice, not four times)."""
    envelope = json_text({"object": "list", "data": [], **rest}).encode()
    body = b"".join((_LIST_HEAD, b",".join(items), envelope[len(_LIST_HEAD) :]))
    return Response(body, media_type="application/json")


def cursor_page(
    items: Sequence[T],
    query: PageQuery,
    *,
    id_of: Callable[[T], str],
    render: Callable[[T], dict[str, Any]],
    keep: Callable[[T], bool] | None = None,
    with_ids: bool = False,
) -> dict[str, Any]:
    """The page as the API sends it: object, data, [first_id, last_id,] has_more.

    An `after` that names none of `items` is a 400 with param `after`. With `with_ids`, an empty page has
    `first_id` and `last_id` null.
    """
    ordered = list(items) if query.order == "asc" else list(reversed(items))
    start = 0
    if query.after is not None:
        position = next((i for i, item in enumerate(ordered) if id_of(item) == query.after), None)
        if position is None:
            raise unknown_cursor(query.after)
        start = position + 1
    chosen: list[T] = []
    has_more = False
    for item in ordered[start:]:
        if keep is not None and not keep(item):
            continue
        if len(chosen) == query.limit:
            has_more = True
            break
        chosen.append(item)
    return page_body([render(item) for item in chosen], has_more, with_ids=with_ids)


def unknown_cursor(after: str | None) -> APIError:
    """The 400 for an `after` that names no object of the list."""
    return invalid_request(f"No object with id '{after}' to page after.", param="after")


def page_body(data: list[dict[str, Any]], has_more: bool, *, with_ids: bool = False) -> dict[str, Any]:
    """A page in the API's key order: object, data, [first_id, last_id (null when empty),] has_more.

    For lists paged in SQL (the modern jobs, events, checkpoints and permissions): `data` is the page already.
    """
    body: dict[str, Any] = {"object": "list", "data": data}
    if with_ids:
        body["first_id"] = data[0]["id"] if data else None
        body["last_id"] = data[-1]["id"] if data else None
    body["has_more"] = has_more
    return body
