"""`python -m emulator [flags]`: the same as `ftemu serve [flags]`."""

from emulator.server import main

raise SystemExit(main())
