"""Ids: draw, taken two digits at a time, gives the digits of the plain definition, one at a time."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.core import ids


def plain_draw(seed: int, counter: int, length: int, alphabet: str) -> str:
    """The definition: the SHA-256 of "seed:counter" in the alphabet's base, least significant digit first."""
    number = int.from_bytes(hashlib.sha256(f"{seed}:{counter}".encode()).digest(), "big")
    chars = []
    for _ in range(length):
        number, index = divmod(number, len(alphabet))
        chars.append(alphabet[index])
    return "".join(chars)


@settings(max_examples=500)
@given(
    seed=st.integers(-(2**63), 2**63),
    counter=st.integers(-(10**9), 10**12),
    length=st.integers(0, 60),
    alphabet=st.sampled_from([ids.ALPHABET, "0123456789abcdefghijklmnopqrstuvwxyz", "ab", "xyz"]),
)
def test_draw_equals_its_plain_definition(seed: int, counter: int, length: int, alphabet: str) -> None:
    assert ids.draw(seed, counter, length, alphabet) == plain_draw(seed, counter, length, alphabet)


def test_make_id_keeps_the_prefix_and_24_characters() -> None:
    made = ids.make_id("ft-", 7, 1)
    assert made == "ft-" + plain_draw(7, 1, 24, ids.ALPHABET) and len(made) == 27
