"""`python -m client.prepare -f FILE [-q]`."""

from __future__ import annotations

import sys

from client.prepare.cli import main

sys.exit(main())
