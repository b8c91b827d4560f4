"""Object ids with the API's prefixes, drawn deterministically from the instance seed and a stored counter."""

from __future__ import annotations

import hashlib
from functools import lru_cache

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


@lru_cache(maxsize=8)
def _pairs(alphabet: str) -> tuple[str, ...]:
    """Every two-digit number in the alphabet's base, as its digits least significant first (the order of draw)."""
    return tuple(low + high for high in alphabet for low in alphabet)


def draw(seed: int, counter: int, length: int = 24, alphabet: str = ALPHABET) -> str:
    """The counter-th string of the seed's sequence: the same seed and counter always give the same id.

    The characters are the base-len(alphabet) digits of a SHA-256, least significant first, taken two at a time.
    """
    digest = hashlib.sha256(f"{seed}:{counter}".encode()).digest()
    number = int.from_bytes(digest, "big")
    pairs, base = _pairs(alphabet), len(alphabet)
    chars = []
    for _ in range(length // 2):
        number, index = divmod(number, base * base)
        chars.append(pairs[index])
    if length % 2:
        chars.append(alphabet[number % base])
    return "".join(chars)


def make_id(prefix: str, seed: int, counter: int) -> str:
    return prefix + draw(seed, counter)


def make_lower_id(prefix: str, seed: int, counter: int) -> str:
    return prefix + draw(seed, counter, alphabet="0123456789abcdefghijklmnopqrstuvwxyz")
