"""`write_jsonl`: compact `{"prompt":…,"completion":…}` lines, byte for byte as pandas `to_json` writes them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, BinaryIO, TextIO

from client.prepare.table import Table

_encode: Any = getattr(json.encoder, "c_encode_basestring", None) or json.encoder.py_encode_basestring
_SURROGATE = re.compile("[\ud800-\udfff]")
BATCH = 8192
# Tables with this many characters are encoded in two processes on Linux (writesplit); tests lower it.
# Above the maximum the child's copy-on-write pages cost more memory than its few per cent of time are worth.
PARALLEL_MIN_CHARS = 4 * 2**20
PARALLEL_MAX_CHARS = 64 * 2**20


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


def _batch(prompts: list[str], completions: list[str]) -> str:
    """Many lines at once: the C encoder per value, then `/` and lone surrogates fixed over the whole batch."""
    enc = _encode
    text = "".join(
        ['{"prompt":' + enc(p) + ',"completion":' + enc(c) + "}\n" for p, c in zip(prompts, completions, strict=True)]
    )
    if "/" in text:
        text = text.replace("/", "\\/")
    return text


def _escape_surrogates(text: str) -> str:
    """Lone surrogates (only JSON escapes can produce them) as `\\uXXXX`, which stays valid JSON."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def write_jsonl(records: Table | Iterable[Mapping[str, object]], target: str | TextIO) -> None:
    """Write prepared records (prompt and completion only) to a path or an open text stream."""
    table = records if isinstance(records, Table) else Table.from_records(records)
    if isinstance(target, str):
        if len(table) > 1 and PARALLEL_MIN_CHARS <= _characters(table) <= PARALLEL_MAX_CHARS:
            from client.prepare.writesplit import write_parallel  # only big tables need it (and its imports)

            if write_parallel(table, target):
                return
        with open(target, "wb") as handle:
            write_rows(handle, table, 0, len(table))
    else:
        escaping = _Escaping(target)
        for text in _texts(table):
            escaping.write(text)


def _characters(table: Table, step: int = 64) -> int:
    """About how many characters the table holds: every `step`-th row counted (a full count costs milliseconds)."""
    sample = sum(map(len, table.prompts[::step])) + sum(map(len, table.completions[::step]))
    return sample * step


def write_rows(handle: BinaryIO, table: Table, start: int, stop: int) -> int:
    """Rows `start:stop` as UTF-8 JSON lines (the whole file of an empty table is "\n"); returns bytes written."""
    written = 0
    for text in _texts(table, start, stop):
        written += handle.write(_utf8(text))
    return written


def _texts(table: Table, start: int = 0, stop: int | None = None) -> Iterator[str]:
    """The file's text, a batch of lines at a time ("\n" alone for no records, as pandas writes)."""
    stop = len(table) if stop is None else stop
    if not len(table):
        yield "\n"
    for first in range(start, stop, BATCH):
        last = min(first + BATCH, stop)
        yield _batch(table.prompts[first:last], table.completions[first:last])


def _utf8(text: str) -> bytes:
    """UTF-8 in one C call (a text stream's encoder is slower on big writes); lone surrogates escaped first."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return _escape_surrogates(text).encode("utf-8")


class _Escaping:
    """A caller's text stream (which may accept lone surrogates, like StringIO): escape them up front."""

    def __init__(self, target: TextIO) -> None:
        self.target = target

    def write(self, text: str) -> int:
        if not text.isascii() and _SURROGATE.search(text):
            text = _escape_surrogates(text)
        return self.target.write(text)
