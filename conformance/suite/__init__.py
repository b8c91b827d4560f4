"""The behaviour suite: one test per documented behaviour, run with `pytest --pyargs conformance`."""
