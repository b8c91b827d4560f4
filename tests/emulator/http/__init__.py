"""Tests of emulator/http."""
