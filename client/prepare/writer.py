"""`write_jsonl`: compact `{"prompt":…,"completion":…}` lines, byte for byte as pandas `to_json` writes them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TextIO

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
        with open(target, "wb") as handle:
            for text in _texts(table):
                handle.write(_utf8(text))
    else:
        escaping = _Escaping(target)
        for text in _texts(table):
            escaping.write(text)


def _texts(table: Table) -> Iterator[str]:
    """The file's text, a batch of lines at a time ("\n" alone for no records, as pandas writes)."""
    if not len(table):
        yield "\n"
    for start in range(0, len(table), BATCH):
        yield _batch(table.prompts[start : start + BATCH], table.completions[start : start + BATCH])


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
