"""Tests of emulator/legacy."""
