"""One generated completion: where its text comes from, where it stops, and its (simulated) log probabilities.

Text sources: a tuned model answers a training prompt with that example's completion; an unseen prompt whose
nearest example is similar enough gets that example's completion with the probability of its base model's
quality profile; everything else is base-model text. The answer then goes on the way training data does
(further completions from the data; base-model text for base models) until `max_tokens` or a stop sequence.
"""

from __future__ import annotations

import codecs
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

import tiktoken

from emulator.core.tokens import encode
from emulator.inference import quality
from emulator.inference.generation import text_seed, words
from emulator.inference.nearest import NearestIndex

SIMILARITY_THRESHOLD = 0.2
# Probability bands of the chosen token, by where the text came from.
CONFIDENCE = {"exact": (0.90, 0.999), "nearest": (0.55, 0.95), "base": (0.08, 0.75), "prompt": (0.01, 0.5)}


@dataclass(frozen=True)
class Tuned:
    """A tuned model's knowledge and how often it answers unseen prompts from it."""

    index: NearestIndex
    quality: float


@dataclass(frozen=True)
class Spec:
    """What one choice depends on."""

    seed: int
    model: str
    prompt: str
    suffix: str | None
    choice: int
    temperature: float
    max_tokens: int
    stop: list[str]


@dataclass(frozen=True)
class Candidate:
    text: str
    tokens: list[int]
    finish_reason: str
    source: str
    token_logprobs: list[float]

    @property
    def mean_logprob(self) -> float:
        return sum(self.token_logprobs) / len(self.token_logprobs) if self.token_logprobs else 0.0


def _rng(spec: Spec, purpose: str) -> random.Random:
    """Temperature 0 is greedy: every choice of a prompt is the same."""
    choice = 0 if spec.temperature == 0 else spec.choice
    return random.Random(text_seed(spec.seed, spec.model, spec.prompt, spec.suffix, choice, purpose))


def choose_source(spec: Spec, tuned: Tuned | None) -> tuple[str, str]:
    """(source, first piece of text): 'exact' or 'nearest' (a training completion) or 'base'."""
    if tuned is None:
        return "base", ""
    match = tuned.index.nearest(spec.prompt)
    if match is None:
        return "base", ""
    completion = tuned.index.examples[match.index][1]
    if match.exact:
        return "exact", completion
    if match.score >= SIMILARITY_THRESHOLD and quality.draw(spec.seed, spec.model, spec.prompt) < tuned.quality:
        return "nearest", completion
    return "base", ""


def _pieces(spec: Spec, tuned: Tuned | None, source: str, first: str) -> Iterator[str]:
    rng = _rng(spec, "text")
    if first:
        yield first
    answers = tuned.index.answers if tuned is not None and source != "base" else []
    if not answers:
        yield from words(rng, spec.prompt + first)
        return
    assert tuned is not None
    while True:
        yield tuned.index.examples[answers[rng.randrange(len(answers))]][1]


def _long_enough(encoding: tiktoken.Encoding, pieces: Iterator[str], max_tokens: int) -> list[int]:
    """The first max_tokens tokens of the text the pieces make."""
    text = ""
    want = max(32, 6 * max_tokens)
    while True:
        for piece in pieces:
            text += piece
            if len(text) >= want:
                break
        tokens = encode(encoding, text)
        if len(tokens) > max_tokens or len(text) < want:
            return tokens[:max_tokens]
        want *= 2


def _cut_at_stop(text: str, stop: list[str]) -> int | None:
    found = [position for position in (text.find(s) for s in stop) if position >= 0]
    return min(found) if found else None


def generate(encoding: tiktoken.Encoding, spec: Spec, tuned: Tuned | None) -> Candidate:
    source, first = choose_source(spec, tuned)
    return generate_from(encoding, spec, source, _pieces(spec, tuned, source, first))


def generate_from(
    encoding: tiktoken.Encoding, spec: Spec, source: str, pieces: Iterator[str], *, logprobs: bool = True
) -> Candidate:
    """The candidate the pieces make: cut at max_tokens or the first stop sequence ("stop" when they run out).

    With logprobs=False the candidate carries no token logprobs (they are drawn only when someone reads them).
    """
    if spec.max_tokens == 0:
        return Candidate("", [], "length", source, [])
    tokens = _long_enough(encoding, pieces, spec.max_tokens)
    text = encoding.decode(tokens)
    finish = "length"
    cut = _cut_at_stop(text, spec.stop)
    if cut is not None:
        text, finish = text[:cut], "stop"
        tokens = encode(encoding, text)
    elif len(tokens) < spec.max_tokens:
        finish = "stop"
    drawn = token_logprobs(spec, source, len(tokens)) if logprobs else []
    return Candidate(text, tokens, finish, source, drawn)


def token_logprobs(spec: Spec, source: str, count: int) -> list[float]:
    low, high = CONFIDENCE[source]
    rng = _rng(spec, "logprobs:" + source)
    return [round(math.log(rng.uniform(low, high)), 6) for _ in range(count)]


def token_strings(encoding: tiktoken.Encoding, tokens: list[int]) -> list[str]:
    """Each token as text; a token that is not whole UTF-8 is written 'bytes:\\xNN...' as the API does."""
    strings = []
    for token in tokens:
        raw = encoding.decode_single_token_bytes(token)
        try:
            strings.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            strings.append("bytes:" + "".join(f"\\x{byte:02x}" for byte in raw))
    return strings


def text_pieces(encoding: tiktoken.Encoding, tokens: list[int]) -> list[str]:
    """Each token's share of the decoded text (partial characters join the token that completes them)."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pieces = [decoder.decode(encoding.decode_single_token_bytes(token)) for token in tokens]
    if pieces:
        pieces[-1] += decoder.decode(b"", final=True)
    return pieces


def alternatives(
    encoding: tiktoken.Encoding, rng: random.Random, chosen: str, logprob: float, count: int
) -> dict[str, float]:
    """The chosen token (the most likely) plus count - 1 less likely ones; probabilities sum below 1."""
    top = {chosen: logprob}
    previous = math.exp(logprob)
    rest = 1.0 - previous
    while len(top) < max(count, 1):
        candidate = token_strings(encoding, [rng.randrange(encoding.n_vocab - 1)])[0]
        if candidate in top:
            continue
        previous = max(min(previous * rng.uniform(0.3, 0.9), rest / 2), 1e-9)
        rest -= previous
        top[candidate] = round(math.log(previous), 6)
    return top
