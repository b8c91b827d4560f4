"""`python -m client.prepare -f FILE [-q]`."""

from __future__ import annotations

from client.prepare.cli import entry

entry()
