"""The offline cl100k_base / o200k_base encodings: known ids and counts, and tiktoken's own constructors."""

from __future__ import annotations

import gzip
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import tiktoken
from tiktoken.load import load_tiktoken_bpe

from emulator.core import tokens as tm
from emulator.core.tokens import TokenizerUnavailable, cl100k_base, encoding_for_model, o200k_base

# o200k "tiktoken is great!" starts with 83 (b"t"), as in the OpenAI cookbook's gpt-4o-mini example; 50 would be b"S".
KNOWN_IDS = {
    "cl100k_base": {"hello world": [15339, 1917], "tiktoken is great!": [83, 1609, 5963, 374, 2294, 0]},
    "o200k_base": {"hello world": [24912, 2375], "tiktoken is great!": [83, 8251, 2488, 382, 2212, 0]},
}

# The OpenAI cookbook's "How to count tokens with tiktoken" example, whose totals it checked against the API:
# 129 prompt tokens for gpt-3.5-turbo / gpt-4 (cl100k_base), 124 for gpt-4o / gpt-4o-mini (o200k_base).
COOKBOOK_MESSAGES = [
    {
        "role": "system",
        "content": (
            "You are a helpful, pattern-following assistant that translates corporate jargon into plain English."
        ),
    },
    {"role": "system", "name": "example_user", "content": "New synergies will help drive top-line growth."},
    {"role": "system", "name": "example_assistant", "content": "Things working well together will increase revenue."},
    {
        "role": "system",
        "name": "example_user",
        "content": (
            "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage."
        ),
    },
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Let's talk later when we're less busy about how to do better.",
    },
    {
        "role": "user",
        "content": "This late pivot means we don't have time to boil the ocean for the client deliverable.",
    },
]


def chat_tokens(enc: tiktoken.Encoding, messages: list[dict[str, str]]) -> int:
    """The cookbook's num_tokens_from_messages for gpt-3.5-turbo-0125 / gpt-4-0613 / gpt-4o(-mini)."""
    total = 0
    for message in messages:
        total += 3  # tokens_per_message
        for key, value in message.items():
            total += len(enc.encode(value))
            if key == "name":
                total += 1  # tokens_per_name
    return total + 3  # every reply is primed with <|start|>assistant<|message|>


@pytest.mark.parametrize("name", ["cl100k_base", "o200k_base"])
def test_known_ids(name: str) -> None:
    enc = cl100k_base() if name == "cl100k_base" else o200k_base()
    assert enc.name == name
    for text, ids in KNOWN_IDS[name].items():
        assert enc.encode(text) == ids
        assert enc.decode(ids) == text


def test_cookbook_chat_counts() -> None:
    assert chat_tokens(cl100k_base(), COOKBOOK_MESSAGES) == 129
    assert chat_tokens(o200k_base(), COOKBOOK_MESSAGES) == 124


def test_special_tokens_and_models() -> None:
    assert cl100k_base().encode("<|endoftext|>", allowed_special="all") == [100257]
    assert o200k_base().encode("<|endoftext|>", allowed_special="all") == [199999]
    assert cl100k_base().n_vocab == 100277 and o200k_base().n_vocab == 200019
    # tiktoken's own model table (no network) agrees on which encoding each family uses.
    for model in ("gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "o3-mini"):
        assert tiktoken.encoding_name_for_model(model) == "o200k_base"
    for model in ("gpt-3.5-turbo", "gpt-4", "gpt-4-turbo"):
        assert tiktoken.encoding_name_for_model(model) == "cl100k_base"


@pytest.mark.parametrize(("name", "ours"), [("cl100k_base", tm.cl100k_base), ("o200k_base", tm.o200k_base)])
def test_matches_tiktoken_constructors(name: str, ours: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Pattern, special tokens, expected hash and ranks equal what tiktoken_ext.openai_public builds."""
    from tiktoken_ext import openai_public

    gz = resources.files(tm.DATA_PACKAGE) / "data" / f"{name}.tiktoken.gz"
    plain = tmp_path / f"{name}.tiktoken"
    plain.write_bytes(gzip.decompress(gz.read_bytes()))
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "")  # tiktoken's loader: no cache copy, no network for a local path
    seen: list[str] = []

    def load_local(url: str, expected_hash: str) -> dict[bytes, int]:
        seen.append(expected_hash)
        return load_tiktoken_bpe(str(plain), expected_hash=expected_hash)  # tiktoken's own hash check and parser

    monkeypatch.setattr(openai_public, "load_tiktoken_bpe", load_local)
    reference = getattr(openai_public, name)()
    enc: tiktoken.Encoding = ours()
    assert seen == [tm.CL100K_BASE_SHA256 if name == "cl100k_base" else tm.O200K_BASE_SHA256]
    assert enc._pat_str == reference["pat_str"]
    assert enc._special_tokens == reference["special_tokens"]
    assert enc._mergeable_ranks == reference["mergeable_ranks"]


def test_missing_package_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tm, "DATA_PACKAGE", "no_such_data_package_xyz")
    with pytest.raises(TokenizerUnavailable, match="no_such_data_package_xyz"):
        tm.load_ranks("cl100k_base", tm.CL100K_BASE_SHA256)


def test_missing_file_and_bad_hash_are_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(TokenizerUnavailable, match=r"without its data/p50k_base\.tiktoken\.gz; reinstall"):
        tm.load_ranks("p50k_base", "0" * 64)
    with pytest.raises(TokenizerUnavailable, match="does not hold OpenAI's cl100k_base ranks"):
        tm.load_ranks("cl100k_base", "0" * 64)


def test_encoding_for_model_follows_the_catalogue() -> None:
    assert encoding_for_model("gpt-4o-mini").name == "o200k_base"
    assert encoding_for_model("ft:gpt-4o-mini-2024-07-18:personal::AbC123xy").name == "o200k_base"
    assert encoding_for_model("gpt-3.5-turbo-0125").name == "cl100k_base"
    assert encoding_for_model("davinci-002").name == "cl100k_base"
    assert encoding_for_model("curie").name == "r50k_base"
    assert encoding_for_model("curie:ft-personal-2023-05-23-08-11-48").name == "r50k_base"


def test_parsed_ranks_are_kept_and_read_back(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(tm.tempfile, "gettempdir", lambda: str(tmp_path))
    first = tm.load_ranks("cl100k_base", tm.CL100K_BASE_SHA256)
    [kept] = (tmp_path / "ftemu-cache").glob("cl100k_base-*.marshal")

    def parse_again(contents: bytes, name: str) -> dict[bytes, int]:
        raise AssertionError("parsed again")

    monkeypatch.setattr(tm, "_parse_ranks", parse_again)
    assert tm.load_ranks("cl100k_base", tm.CL100K_BASE_SHA256) == first
    kept.write_bytes(b"\x00damaged")
    monkeypatch.undo()
    monkeypatch.setattr(tm.tempfile, "gettempdir", lambda: str(tmp_path))
    assert tm.load_ranks("cl100k_base", tm.CL100K_BASE_SHA256) == first  # parsed again, and kept afresh
