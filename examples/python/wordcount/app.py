"""Map-reduce word count over a generated text, like examples/rust/wordcount
(the same generator, so both print the same result):

    wrun submit wordcount.wasm
    # -> {"words": 20000, "distinct": 50, "top": [["and", 825], ["the", 802], ...]}

The driver puts the chunks in the object store; map tasks receive a chunk by
reference (the host resolves it before they run); one reduce task receives
the partial counts as references (passed on, not fetched) and gets them
itself. The driver checks the result against a local count.
"""

from collections import Counter

import wrun

VOCABULARY = (
    "the of and to in a is that for it as was with be by on not he this are or his from at "
    "which but have an had they you were their one all we can her has there been if more when "
    "will would who so no wasm"
).split()
WORDS = 20_000
CHUNKS = 16
_MASK = (1 << 64) - 1


def xorshift(state):
    """xorshift64* as in the Rust example: returns (new state, output)."""
    state ^= state >> 12
    state ^= (state << 25) & _MASK
    state ^= state >> 27
    return state, (state * 0x2545F4914F6CDD1D) & _MASK


def generate():
    """WORDS words, skewed towards the vocabulary's start, in CHUNKS chunks."""
    state, words = 0x5EED, []
    for _ in range(WORDS):
        state, r = xorshift(state)
        words.append(VOCABULARY[min(r % 50, (r >> 32) % 50)])
    size = -(-WORDS // CHUNKS)
    return [" ".join(words[i : i + size]) for i in range(0, WORDS, size)]


@wrun.remote
def count_words(chunk):
    """Counts the words of one chunk."""
    return dict(Counter(chunk.split()))


@wrun.remote
def merge(parts):
    """Gets the partial counts (references) and merges them."""
    total = Counter()
    for part in wrun.get(parts):
        total.update(part)
    return dict(total)


@wrun.main
def main(args):
    chunks = generate()
    parts = [count_words.remote(wrun.put(c)) for c in chunks]
    counts = wrun.get(merge.remote(parts))
    if counts != dict(Counter(" ".join(chunks).split())):
        raise RuntimeError("remote word counts differ from the local count")
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    return {"words": sum(counts.values()), "distinct": len(counts), "top": [list(t) for t in top]}
