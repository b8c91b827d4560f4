"""ftemu's emulator: a local, faithful fake of OpenAI's legacy files, fine-tunes, models and completions API."""

from emulator.app import create_app
from emulator.settings import Settings

__all__ = ["Settings", "create_app"]
