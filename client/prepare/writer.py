"""`write_jsonl`: compact `{"prompt":…,"completion":…}` lines, byte for byte as pandas `to_json` writes them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, BinaryIO, TextIO

from client.prepare.jsonfile import Records, as_table
from client.prepare.table import Table

_encode: Any = getattr(json.encoder, "c_encode_basestring", None) or json.encoder.py_encode_basestring
_SURROGATE = re.compile("[\ud800-\udfff]")
BATCH = 8192


def quote(text: str) -> str:
    """A JSON string as pandas writes it with `force_ascii=False`: `/` escaped as `\\/`, lone surrogates as \\uXXXX."""
    quoted: str = _encode(text)
    if "/" in quoted:
        quoted = quoted.replace("/", "\\/")
    if not quoted.isascii() and _SURROGATE.search(quoted):
        quoted = _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)
    return quoted


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


def write_jsonl(records: Records, target: str | TextIO) -> None:
    """Write prepared records (prompt and completion only) to a path or an open text stream."""
    table = as_table(records)
    if isinstance(target, str):
        with open(target, "wb") as handle:
            write_rows(handle, table)
    else:
        escaping = _Escaping(target)
        for text in _texts(table):
            escaping.write(text)


def write_rows(handle: BinaryIO, table: Table) -> int:
    """The rows as UTF-8 JSON lines (the whole file of an empty table is "\n"); returns bytes written."""
    if not len(table):
        return handle.write(b"\n")
    written = 0
    for first in range(0, len(table), BATCH):
        last = min(first + BATCH, len(table))
        prompts, completions = table.prompts[first:last], table.completions[first:last]
        data = escaped_lines(prompts, completions)
        written += handle.write(data if data is not None else _utf8(_batch(prompts, completions)))
    return written


# JSON escapes as bytes, backslash first (later ones insert backslashes); `/` as pandas writes it.
_ESCAPES = (
    (b"\\", b"\\\\"),
    (b'"', b'\\"'),
    (b"\n", b"\\n"),
    (b"\r", b"\\r"),
    (b"\t", b"\\t"),
    (b"\x08", b"\\b"),
    (b"\x0c", b"\\f"),
    (b"/", b"\\/"),
)
_OTHER_CONTROLS = bytes(c for c in range(32) if c not in b"\b\t\n\f\r")  # these need `\u00XX`
_LINE_START = b'{"prompt":"'


def escaped_lines(prompts: list[str], completions: list[str]) -> bytes | None:
    r"""The batch's JSON lines from whole-batch byte operations, or None when the per-value encoder must do it.

    The values are joined with `\x00` after each prompt and `\x01` after each completion, encoded once, escaped by
    one `bytes.replace` per escape that occurs (UTF-8 continuation bytes are never ASCII, so replacing bytes is
    replacing characters), and the markers become the JSON between values. None when a value holds a lone
    surrogate (not UTF-8) or a control character written as `\u00XX` (which includes the two markers): the count
    of such bytes then exceeds the markers'. About twice as fast as the C encoder called value by value.
    """
    n = len(prompts)
    parts = ["\x00"] * (4 * n)
    parts[0::4] = prompts
    parts[2::4] = completions
    parts[3::4] = ["\x01"] * n
    try:
        data = "".join(parts).encode("utf-8")
    except UnicodeEncodeError:
        return None
    for char, escaped in _ESCAPES:
        if char in data:
            data = data.replace(char, escaped)
    if len(data) - len(data.translate(None, _OTHER_CONTROLS)) != 2 * n:
        return None
    data = data.replace(b"\x00", b'","completion":"').replace(b"\x01", b'"}\n' + _LINE_START)
    return _LINE_START + data[: -len(_LINE_START)]


def _texts(table: Table) -> Iterator[str]:
    """The file's text, a batch of lines at a time ("\n" alone for no records, as pandas writes)."""
    if not len(table):
        yield "\n"
    for first in range(0, len(table), BATCH):
        last = min(first + BATCH, len(table))
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
