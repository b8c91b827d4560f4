"""Tests of emulator/resources."""
