"""ftemu's emulator: a local, faithful fake of OpenAI's fine-tuning, files, models and completions APIs.

The package imports nothing heavy until asked (PEP 562): `from emulator import create_app, Settings` loads the
web app; `import emulator.core.tokens` (as prepare_data does) loads no web framework.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emulator.app import create_app
    from emulator.settings import Settings

__all__ = ["Settings", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from emulator.app import create_app

        return create_app
    if name == "Settings":
        from emulator.settings import Settings

        return Settings
    raise AttributeError(f"module 'emulator' has no attribute {name!r}")
