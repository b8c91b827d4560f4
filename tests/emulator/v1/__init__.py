"""Tests of the modern fine-tuning API."""
