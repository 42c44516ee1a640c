"""Reading the frames: greedy and beam decoding, the prior correction, and beam search restricted to a word list."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import keras
import numpy as np

from .lines import BLANK, word_list


def greedy_decode(probabilities: np.ndarray) -> list[tuple[int, float]]:
    """Best path: the likeliest output of every frame, repeats merged, blanks dropped.

    Returns (class index, probability) per character read, the probability
    being the highest its frames gave it.
    """
    best = probabilities.argmax(axis=1)
    read: list[tuple[int, float]] = []
    for t, output in enumerate(best):
        if output == BLANK:
            continue
        if t > 0 and best[t - 1] == output:
            read[-1] = (read[-1][0], max(read[-1][1], float(probabilities[t, output])))
        else:
            read.append((int(output) - 1, float(probabilities[t, output])))
    return read


def beam_decode(probabilities: np.ndarray, beam_width: int = 16) -> list[int]:
    """The likeliest text summed over all its alignments, by Keras' CTC beam search (class indices)."""
    decoded, _ = keras.ops.ctc_decode(
        np.log(probabilities + 1e-12)[None].astype(np.float32),
        np.array([len(probabilities)]),
        strategy="beam_search",
        beam_width=beam_width,
        mask_index=BLANK,
    )
    return [int(output) - 1 for output in np.asarray(decoded)[0, 0] if output > BLANK]


# Prior correction, tuned on 2,000 lines written with training images (never on test lines): greedy CER 12.2% → 11.7%
PRIOR_TAU = 0.75  # a class's frame probability is divided by (its share of training characters × classes) ** PRIOR_TAU
BLANK_SCALE = 0.35  # ... and the blank's multiplied by this, before renormalising


def correct_prior(
    probabilities: np.ndarray, prior: np.ndarray, tau: float = PRIOR_TAU, blank_scale: float = BLANK_SCALE
) -> np.ndarray:
    """Frame probabilities (frames × (blank + classes)) with the training lines' class prior taken out, renormalised.

    Logit adjustment: class c's probability is divided by ``(len(prior) ×
    prior[c]) ** tau`` (a class written as often as a uniform draw keeps it),
    the blank's multiplied by ``blank_scale``. Test lines of random characters
    draw every class equally often, so this stops the reader from preferring
    letters that words made common (0 read as O).
    """
    weights = np.concatenate([[blank_scale], (len(prior) * np.asarray(prior)) ** -tau]).astype(np.float32)
    adjusted = probabilities * weights
    return adjusted / adjusted.sum(axis=-1, keepdims=True)


LETTERS = "abcdefghijklmnopqrstuvwxyz"
END = ""  # the trie key that marks a complete word


class Lexicon:
    """A word list for decoding: CTC beam search that only follows spellings of its words, case-insensitive.

    The network's classes are folded onto 26 letters: ``a`` and ``A`` add up,
    and a merged EMNIST class (``C`` holds c and C) counts for its letter.
    Digits count for no letter.
    """

    def __init__(self, words: Iterable[str]) -> None:
        self.trie: dict = {}
        for word in words:
            word = word.lower()
            if not word or not set(word) <= set(LETTERS):
                raise ValueError(f"a lexicon word has letters a-z only, not {word!r}")
            node = self.trie
            for letter in word:
                node = node.setdefault(letter, {})
            node[END] = word

    @classmethod
    def shipped(cls) -> Lexicon:
        """All the words of ``data/words`` (the training and the held-out ones)."""
        return cls(word_list("all"))

    @staticmethod
    def fold(probabilities: np.ndarray, classes: Sequence[str]) -> np.ndarray:
        """T×(1 + classes) frame probabilities → T×27: the blank, then a-z (upper and lower case summed)."""
        fold = np.zeros((len(classes) + 1, len(LETTERS) + 1), np.float32)
        fold[BLANK, 0] = 1.0
        for c, char in enumerate(classes):
            if char.lower() in LETTERS:
                fold[c + 1, LETTERS.index(char.lower()) + 1] = 1.0
        return probabilities @ fold

    def decode(
        self, probabilities: np.ndarray, classes: Sequence[str], beam_width: int = 16, prune: float = 1e-4
    ) -> str | None:
        """The word of the list likeliest to have made these frames (prefix beam search), or None if none fits.

        Each beam entry is a prefix of some word, with the log probability of
        its alignments ending in a blank and ending in its last letter; a
        letter is tried only where the trie allows it and the frame gives it
        more than ``prune``.
        """
        folded = np.log(self.fold(probabilities, classes) + 1e-12)
        allowed = folded[:, 1:] > np.log(prune)
        beams: dict[str, tuple[float, float]] = {"": (0.0, -np.inf)}  # prefix → (log p ending blank, ending letter)
        nodes = {"": self.trie}
        for t in range(len(folded)):
            logp, candidates = folded[t], [LETTERS[i] for i in np.flatnonzero(allowed[t])]
            new: dict[str, list[float]] = {}
            for prefix, (blank, letter) in beams.items():
                total = np.logaddexp(blank, letter)
                entry = new.setdefault(prefix, [-np.inf, -np.inf])
                entry[0] = np.logaddexp(entry[0], total + logp[0])
                if prefix:  # the last letter held over another frame
                    entry[1] = np.logaddexp(entry[1], letter + logp[LETTERS.index(prefix[-1]) + 1])
                for char in candidates:
                    child = nodes[prefix].get(char)
                    if child is None:
                        continue
                    extended = prefix + char
                    nodes[extended] = child
                    # a doubled letter needs a blank between its two frames
                    source = blank if prefix and prefix[-1] == char else total
                    entry_new = new.setdefault(extended, [-np.inf, -np.inf])
                    entry_new[1] = np.logaddexp(entry_new[1], source + logp[LETTERS.index(char) + 1])
            ranked = sorted(new.items(), key=lambda item: -np.logaddexp(*item[1]))[:beam_width]
            beams = {prefix: (b, n) for prefix, (b, n) in ranked}
        words = [
            (np.logaddexp(*scores), nodes[prefix][END]) for prefix, scores in beams.items() if END in nodes[prefix]
        ]
        return max(words)[1] if words else None
