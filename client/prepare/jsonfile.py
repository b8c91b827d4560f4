"""JSON and JSON lines as pandas `read_json(..., dtype=str).fillna("")` reads them, column by column."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from client.prepare.csvfile import MalformedFile
from client.prepare.table import FIELDS, Column, Table, source_column

INT64 = (-(2**63), 2**63 - 1)
UINT64_MAX = 2**64 - 1
_MISSING = None


def _is_null(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def stringify(values: list[Any]) -> list[str]:
    """One column's values as pandas `dtype=str` renders them: numbers column-wide, missing as ""."""
    present = [v for v in values if not _is_null(v)]
    numeric = bool(present) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present)
    as_float = numeric and (
        len(present) < len(values) or any(isinstance(v, float) or not INT64[0] <= v <= INT64[1] for v in present)
    )
    out = []
    for v in values:
        if _is_null(v):
            out.append("")
        elif isinstance(v, str):
            out.append(v)
        else:
            out.append(str(float(v)) if as_float else str(v))
    return out


class _Columns:
    """Records gathered into columns; only keys that may become `prompt`/`completion` keep their values."""

    def __init__(self) -> None:
        self.names: list[Column] = []
        self._known: set[Column] = set()
        self.kept: dict[Column, list[Any]] = {}
        self.rows = 0

    def add(self, record: dict[str, Any]) -> None:
        for key, value in record.items():
            if key not in self._known:
                self._known.add(key)
                self.names.append(key)
                if key.lower() in FIELDS:
                    self.kept[key] = [_MISSING] * self.rows
            if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value <= UINT64_MAX:
                raise MalformedFile("Value is too big!")
        for name, column in self.kept.items():
            column.append(record.get(str(name), _MISSING))
        self.rows += 1

    def table(self) -> Table:
        def values(name: str) -> list[str]:
            index = source_column(self.names, name)
            return stringify(self.kept[self.names[index]]) if index is not None else [""] * self.rows

        return Table(self.names, values("prompt"), values("completion"))


def _positional(first: Any, count: int, width: int) -> Table:
    """No records: one column `0` (scalars first) or columns `0`, `1`, … (lists first); never a prompt column."""
    columns: list[Column] = list(range(width)) if isinstance(first, list) else [0]
    return Table(columns, [""] * count, [""] * count)


class _Shape:
    """pandas `DataFrame(list)` follows the first value: dicts make records, lists rows, scalars one column."""

    def __init__(self) -> None:
        self.columns = _Columns()
        self.first: Any = None
        self.count = 0
        self.width = 0

    def add(self, value: Any) -> None:
        if self.count == 0:
            self.first = value
        self.count += 1
        if isinstance(self.first, dict):
            if not isinstance(value, dict):
                raise MalformedFile("cannot build a table from mixed objects and values")
            self.columns.add(value)
        elif isinstance(self.first, list):
            if not isinstance(value, list | dict | str):
                raise MalformedFile(f"'{type(value).__name__}' object is not iterable")
            self.width = max(self.width, len(value))

    def table(self) -> Table:
        if self.count == 0:
            return Table([], [], [])
        if isinstance(self.first, dict):
            return self.columns.table()
        return _positional(self.first, self.count, self.width)


def table_from_objects(rows: list[Any]) -> Table:
    """A table from parsed JSON values, as `pandas.DataFrame(list)` builds it."""
    shape = _Shape()
    for row in rows:
        shape.add(row)
    return shape.table()


Records = Table | Iterable[Mapping[str, object]]


def as_table(records: Records) -> Table:
    """A Table as it is; records (dictionaries, as JSON objects) as the legacy reader makes them: values as strings."""
    return records if isinstance(records, Table) else table_from_objects(list(records))


def _from_mapping(data: dict[str, Any]) -> Table:
    """`DataFrame(dict)`: dicts and lists are columns over a shared index; scalars only broadcast."""
    shaped = [v for v in data.values() if isinstance(v, dict | list)]
    if not data:
        return Table([], [], [])
    if any(isinstance(v, dict) for v in shaped) and any(isinstance(v, list) for v in shaped):
        raise MalformedFile("Mixing dicts with non-Series may lead to ambiguous ordering.")
    if not shaped:
        raise MalformedFile("If using all scalar values, you must pass an index")
    index: list[Any] = []
    seen: set[Any] = set()
    lengths = {len(v) for v in shaped if isinstance(v, list)}
    if len(lengths) > 1:
        raise MalformedFile("All arrays must be of the same length")
    for v in shaped:
        keys = v.keys() if isinstance(v, dict) else range(len(v))
        for k in keys:
            if k not in seen:
                seen.add(k)
                index.append(k)
    records = []
    for k in index:
        record = {}
        for name, v in data.items():
            if isinstance(v, dict):
                record[name] = v.get(k)
            elif isinstance(v, list):
                record[name] = v[k] if isinstance(k, int) and k < len(v) else None
            else:
                record[name] = v
        records.append(record)
    return table_from_objects(records)


def read_json_document(path: str) -> Table:
    """A whole-file JSON document (pandas' default `orient="columns"`)."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    try:
        data = json.loads(text, strict=False)
    except ValueError as exc:
        raise MalformedFile(str(exc)) from None
    if isinstance(data, list):
        return table_from_objects(data)
    if isinstance(data, dict):
        return _from_mapping(data)
    if data is None:
        return Table([], [], [])
    raise MalformedFile("DataFrame constructor not properly called!")


def read_json_lines(path: str) -> Table:
    """JSON lines: each non-blank line (stripped) is a value; pandas joins them into one array and parses that."""
    shape = _Shape()
    with open(path, encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.strip()
            if not line:
                continue
            try:
                value = json.loads(line, strict=False)
            except ValueError as exc:
                return _joined(path, number, exc)
            try:
                shape.add(value)
            except MalformedFile as exc:
                raise MalformedFile(exc.reason, number) from None
    return shape.table()


def _joined(path: str, number: int, first_error: ValueError) -> Table:
    """The slow, exact path: parse the lines joined by commas, as pandas does, remembering the first bad line."""
    with open(path, encoding="utf-8") as handle:
        lines = [line for line in (raw.strip() for raw in handle) if line]
    try:
        data = json.loads("[" + ",".join(lines) + "]", strict=False)
    except ValueError:
        reason = str(first_error)
        if isinstance(first_error, json.JSONDecodeError):
            reason = f"{first_error.msg} (column {first_error.colno})"
        raise MalformedFile(f"not valid JSON: {reason}", number) from None
    return table_from_objects(data)
