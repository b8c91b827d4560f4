"""Data preparation: a pandas-free, drop-in `openai tools fine_tunes.prepare_data`, as a library and a CLI."""

from __future__ import annotations

from client.prepare.analysis import VALIDATORS, check, fix, split
from client.prepare.readers import read_any
from client.prepare.table import Finding, PrepareError, Table
from client.prepare.writer import write_jsonl

__all__ = ["VALIDATORS", "Finding", "PrepareError", "Table", "check", "fix", "read_any", "split", "write_jsonl"]
