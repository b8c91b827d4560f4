"""Deterministic base-model text: a word-level Markov chain over a small built-in corpus, seeded per call."""

from __future__ import annotations

import functools
import hashlib
import random
from collections.abc import Iterator

# Plain prose in the register of web text; the chain recombines it into new sentences.
CORPUS = """
The team spent most of the morning going through the results of the new survey. Most of the people who
answered said that they would like to see more green space in the city, and many of them asked for longer
opening hours at the public library. The council is expected to discuss the report at its next meeting in
the spring. When you start a new project, it is a good idea to write down what you want to achieve and
how you will know that you have succeeded. A short plan will save you a lot of time later, because you
can always come back to it when you are not sure what to do next. It also makes it easier to explain the
work to other people. The river runs through the old town and past the market square, where farmers sell
fresh bread, cheese and vegetables every Saturday. In the summer the square is full of visitors who come
to see the cathedral and the museum. Many of them stay for dinner in one of the small restaurants along
the water. Scientists have known for a long time that sleep plays an important role in memory. In a
recent study, the researchers asked a group of students to learn a list of words before going to bed. The
students who slept well remembered more of the words the next day than those who stayed awake. There are
many ways to cook rice, but the simplest one is also the most reliable. Rinse the rice in cold water, add
it to a pot with twice as much water, and bring it to a boil. Then turn down the heat, cover the pot and
let it cook slowly until all of the water has been absorbed. The company said on Tuesday that its sales
had grown faster than expected during the third quarter. The new products were popular with customers in
Europe and Asia, and the shares rose sharply in early trading. Analysts said that the outlook for the
rest of the year remained uncertain. Our next meeting will take place on the first Monday of the month.
Please let me know if you would like to add anything to the agenda, and feel free to bring a friend who
might be interested in joining the group. We will start at seven and finish by nine, with coffee and a
short break in the middle. She had always wanted to travel, and when she finally had the chance she went
to the mountains in the north. The weather was cold and clear, and from the top of the hill she could see
the lake and the small village on the other side. It was the most beautiful place she had ever seen. The
new version of the software is faster and uses less memory than the previous one. It also fixes a number
of problems that users had reported, including a bug that could cause the program to stop working when a
large file was opened. You can download it from the website and install it in a few minutes. Children
learn best when they are curious about the world around them. A good teacher knows how to ask the right
questions and when to step back and let the students find the answer for themselves. This is not always
easy, but it is one of the most important parts of the job.
"""

START = "\x00"
# The order-2 chain alone has one follower for most states, so two choices that open alike stay alike: three
# choices of nine words repeated one another for 79 of 1,200 prompts. With this chance a word is instead drawn
# from everything that follows the last word anywhere in the corpus (which branches at almost every step), and
# a prompt the corpus cannot continue joins a sentence midway instead of opening one: 0 of 1,200.
LOOSE = 0.5


@functools.cache
def chain() -> dict[tuple[str, str], tuple[str, ...]]:
    """Order-2 word chain; (START, START) leads to sentence openings."""
    table: dict[tuple[str, str], list[str]] = {}
    words = CORPUS.split()
    state = (START, START)
    for word in words:
        table.setdefault(state, []).append(word)
        state = (START, START) if word.endswith(".") else (state[1], word)
    return {state: tuple(followers) for state, followers in table.items() if followers}


@functools.cache
def loose_chain() -> dict[str, tuple[str, ...]]:
    """Order-1 chain: every word that follows a word (inside a sentence) anywhere in the corpus."""
    table: dict[str, list[str]] = {}
    for (_, last), followers in chain().items():
        if last != START:
            table.setdefault(last, []).extend(followers)
    return {word: tuple(followers) for word, followers in table.items()}


@functools.cache
def _states_ending_with() -> dict[str, list[tuple[str, str]]]:
    ending: dict[str, list[tuple[str, str]]] = {}
    for state in chain():
        if state[0] != START:
            ending.setdefault(state[1].lower(), []).append(state)
    return ending


def text_seed(*parts: object) -> int:
    """A 64-bit seed fixed by the given parts."""
    digest = hashlib.sha256("\x00".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big")


@functools.cache
def _inner_states() -> tuple[tuple[str, str], ...]:
    return tuple(state for state in chain() if state[0] != START)


def _opening(rng: random.Random, prompt: str) -> tuple[str, str]:
    """Continue from the prompt's last word if the corpus knows it, else start a sentence or join one midway."""
    words = prompt.split()
    if words:
        last = words[-1].lower()
        known = _states_ending_with().get(last)
        if known:
            return known[rng.randrange(len(known))]
    if rng.random() < LOOSE:
        inner = _inner_states()
        return inner[rng.randrange(len(inner))]
    return (START, START)


def words(rng: random.Random, prompt: str) -> Iterator[str]:
    """An endless stream of words, each with its leading space or newline."""
    table, loose = chain(), loose_chain()
    state = _opening(rng, prompt)
    sentences = 0
    while True:
        followers = table.get(state) or table[(START, START)]
        if state[1] != START and rng.random() < LOOSE:
            followers = loose.get(state[1], followers)
        word = followers[rng.randrange(len(followers))]
        lead = " "
        if state == (START, START):
            sentences += 1
            if sentences > 1 and rng.random() < 0.25:
                lead = "\n\n"
        yield lead + word
        state = (START, START) if word.endswith(".") else (state[1], word)


def base_text(rng: random.Random, prompt: str, min_chars: int) -> str:
    """At least `min_chars` characters of fluent-looking text that follows `prompt`."""
    parts: list[str] = []
    size = 0
    for word in words(rng, prompt):
        parts.append(word)
        size += len(word)
        if size >= min_chars:
            break
    return "".join(parts)
