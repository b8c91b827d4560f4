"""The parsed GPT-2 ranks are kept between processes, and only used while their source files are intact."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.core import tokens


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "r50k.marshal"
    monkeypatch.setattr(tokens, "_ranks_cache", lambda: path)
    return path


def test_r50k_base_second_load_reads_the_parsed_ranks(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = tokens.r50k_base.__wrapped__()
    assert cache.exists()

    def parse_again(**_: object) -> dict[bytes, int]:
        raise AssertionError("parsed again")

    monkeypatch.setattr(tokens, "data_gym_to_mergeable_bpe_ranks", parse_again)
    second = tokens.r50k_base.__wrapped__()
    assert second.encode("hello world, ftemu") == first.encode("hello world, ftemu")


def test_r50k_base_damaged_cache_is_parsed_again(cache: Path) -> None:
    cache.write_bytes(b"\x00not marshal")
    assert tokens.r50k_base.__wrapped__().encode("hello") == [31373]
    assert tokens._cached_ranks() is not None  # written afresh
