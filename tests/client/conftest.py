"""Fixtures of the CLI tests (the harness lives in cli_harness.py)."""

from tests.client.cli_harness import ftemu, instant, servers, train, utc

__all__ = ["ftemu", "instant", "servers", "train", "utc"]
