"""Tests of the modern API."""
