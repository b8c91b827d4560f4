"""Whether this process may fork a helper (shards.py serves a table's later rows from one)."""

from __future__ import annotations

import os
import sys
import threading


def available() -> bool:
    """Forking is safe here: Linux, and no other thread whose locks a child could inherit mid-use."""
    return sys.platform.startswith("linux") and hasattr(os, "fork") and threading.active_count() == 1
