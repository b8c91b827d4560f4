"""`write_jsonl`: compact `{"prompt":…,"completion":…}` lines, byte for byte as pandas `to_json` writes them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

from client.prepare.table import Table

_encode: Any = getattr(json.encoder, "c_encode_basestring", None) or json.encoder.py_encode_basestring
_SURROGATE = re.compile("[\ud800-\udfff]")


def quote(text: str) -> str:
    """A JSON string as pandas writes it with `force_ascii=False`: `/` escaped as `\\/`, lone surrogates as \\uXXXX."""
    quoted: str = _encode(text)
    if "/" in quoted:
        quoted = quoted.replace("/", "\\/")
    if not quoted.isascii() and _SURROGATE.search(quoted):
        quoted = _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)
    return quoted


def lines(table: Table) -> Iterable[str]:
    for p, c in zip(table.prompts, table.completions, strict=True):
        yield '{"prompt":' + quote(p) + ',"completion":' + quote(c) + "}\n"


def write_jsonl(records: Table | Iterable[Mapping[str, object]], target: str | TextIO) -> None:
    """Write prepared records (prompt and completion only) to a path or an open text stream."""
    table = records if isinstance(records, Table) else Table.from_records(records)
    if isinstance(target, str):
        with open(target, "w", encoding="utf-8", newline="") as handle:
            _write(table, handle)
    else:
        _write(table, target)


def _write(table: Table, handle: TextIO) -> None:
    if not len(table):
        handle.write("\n")
        return
    batch: list[str] = []
    for line in lines(table):
        batch.append(line)
        if len(batch) >= 4096:
            handle.write("".join(batch))
            batch.clear()
    handle.write("".join(batch))
