"""Object ids with the API's prefixes, drawn deterministically from the instance seed and a stored counter."""

from __future__ import annotations

import hashlib

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def draw(seed: int, counter: int, length: int = 24, alphabet: str = ALPHABET) -> str:
    """The counter-th string of the seed's sequence: the same seed and counter always give the same id."""
    digest = hashlib.sha256(f"{seed}:{counter}".encode()).digest()
    number = int.from_bytes(digest, "big")
    chars = []
    for _ in range(length):
        number, index = divmod(number, len(alphabet))
        chars.append(alphabet[index])
    return "".join(chars)


def make_id(prefix: str, seed: int, counter: int) -> str:
    return prefix + draw(seed, counter)


def make_lower_id(prefix: str, seed: int, counter: int) -> str:
    return prefix + draw(seed, counter, alphabet="0123456789abcdefghijklmnopqrstuvwxyz")
