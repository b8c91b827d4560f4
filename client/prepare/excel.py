"""The first sheet of an XLSX workbook as pandas `read_excel(dtype=str).fillna("")` (openpyxl engine) reads it."""

from __future__ import annotations

import datetime
from typing import Any

from client.prepare.csvfile import NA_VALUES, column_names
from client.prepare.table import Table, pick


def _cell(cell: Any) -> Any:
    """pandas' openpyxl cell conversion: errors are missing, integral numbers are ints."""
    value = cell.value
    if value is None:
        return ""
    if cell.data_type == "e":
        return None
    if cell.data_type == "n" and not isinstance(value, bool | datetime.datetime | datetime.date | datetime.time):
        return int(value) if int(value) == value else float(value)
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return "" if value in NA_VALUES else value
    return str(value)


def read_workbook(path: str) -> tuple[Table, int]:
    """The first sheet as a table, and the number of sheets."""
    import openpyxl  # only for .xlsx files: it takes ~170 ms to import, so not at start-up

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheets = len(book.sheetnames)
        rows: list[list[Any]] = []
        for cells in book.worksheets[0].iter_rows():
            row = [_cell(c) for c in cells]
            while row and row[-1] == "":
                row.pop()
            rows.append(row)
    finally:
        book.close()
    while rows and not rows[-1]:
        rows.pop()
    if not rows:
        return Table([], [], []), sheets
    header = [h if h != "" else None for h in rows[0]]
    width = max(len(r) for r in rows)
    header += [None] * (width - len(header))
    columns = column_names(header)
    body = ([_text(v) for v in r] + [""] * (width - len(r)) for r in rows[1:])
    return pick(columns, body), sheets
