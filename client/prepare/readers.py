"""`read_any`: the legacy tool's format detection by extension, its messages, and its read errors."""

from __future__ import annotations

import os

from client.prepare.csvfile import MalformedFile, read_delimited
from client.prepare.excel import read_workbook
from client.prepare.jsonfile import read_json_document, read_json_lines
from client.prepare.table import FIELDS, Finding, PrepareError, Table

EXTENSIONS = "Your file must have one of the following extensions: .CSV, .TSV, .XLSX, .TXT, .JSON or .JSONL"
SHEETS = (
    "\n- Your Excel file contains more than one sheet. Please either save as csv or ensure all data is present "
    "in the first sheet. WARNING: Reading only the first sheet..."
)


def _converted(name: str) -> str:
    return f"Your format `{name}` will be converted to `JSONL`"


def read_text(path: str) -> Table:
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().split("\n")
    return Table(list(FIELDS), [""] * len(lines), lines)


def _read(path: str) -> tuple[Table, str | None, str | None]:
    """(table, immediate message, necessary message) for a file that exists."""
    lower = path.lower()
    if lower.endswith((".csv", ".tsv")):
        kind = "CSV" if lower.endswith(".csv") else "TSV"
        table = read_delimited(path, "," if kind == "CSV" else "\t")
        return table, f"\n- Based on your file extension, your file is formatted as a {kind} file", _converted(kind)
    if lower.endswith(".xlsx"):
        table, sheets = read_workbook(path)
        message = "\n- Based on your file extension, your file is formatted as an Excel file"
        return table, message + (SHEETS if sheets > 1 else ""), _converted("XLSX")
    if lower.endswith(".txt"):
        return read_text(path), "\n- Based on your file extension, you provided a text file", _converted("TXT")
    if lower.endswith(".jsonl"):
        table = read_json_lines(path)
        if len(table) != 1:
            return table, None, None
        message = "\n- Your JSONL file appears to be in a JSON format. Your file will be converted to JSONL format"
        return read_json_document(path), message, _converted("JSON")
    try:
        table = read_json_lines(path)
    except (ValueError, TypeError):
        return read_json_document(path), None, None
    if len(table) == 1:
        return read_json_document(path), None, None
    message = "\n- Your JSON file appears to be in a JSONL format. Your file will be converted to JSONL format"
    return table, message, _converted("JSON")


def _unsupported(path: str) -> str:
    if "." in path:
        extension = path.split(".")[-1]
        return f"{EXTENSIONS} Your file `{path}` ends with the extension `.{extension}` which is not supported."
    return f"{EXTENSIONS} Your file `{path}` is missing a file extension."


def read_any(path: str, *, line_numbers: bool = False) -> Table:
    """The file as a table, with `table.read` holding the format finding; raises PrepareError as the legacy tool.

    With `line_numbers`, a malformed file's error names the offending line when it is known.
    """
    if not os.path.isfile(path):
        raise PrepareError("read_any_format", f"File {path} does not exist.")
    if not path.lower().endswith((".csv", ".tsv", ".xlsx", ".txt", ".jsonl", ".json")):
        raise PrepareError("read_any_format", _unsupported(path))
    try:
        table, immediate, necessary = _read(path)
    except (ValueError, TypeError) as exc:
        kind = path.split(".")[-1].upper()
        message = (
            f"Your file `{path}` does not appear to be in valid {kind} format. Please ensure your file is "
            f"formatted as a valid {kind} file."
        )
        if line_numbers and isinstance(exc, MalformedFile) and exc.line is not None:
            message += f" Line {exc.line}: {exc.reason}."
        raise PrepareError("read_any_format", message) from exc
    except Exception as exc:  # openpyxl raises its own types (zip errors, KeyError) on a broken workbook
        kind = path.split(".")[-1].upper()
        raise PrepareError(
            "read_any_format",
            f"Your file `{path}` does not appear to be in valid {kind} format. "
            f"Please ensure your file is formatted as a valid {kind} file.",
        ) from exc
    table.read = Finding("read_any_format", immediate=immediate, necessary=necessary)
    return table
