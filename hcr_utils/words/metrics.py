"""Scoring what a line reader read: edit distance, character error rate, and which edits it made."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np


def _distances(truth: Sequence, guess: Sequence) -> np.ndarray:
    """The edit-distance table: entry (i, j) turns ``guess[:j]`` into ``truth[:i]``."""
    table = np.zeros((len(truth) + 1, len(guess) + 1), np.int64)
    table[:, 0], table[0, :] = np.arange(len(truth) + 1), np.arange(len(guess) + 1)
    for i, a in enumerate(truth, start=1):
        for j, b in enumerate(guess, start=1):
            table[i, j] = min(table[i - 1, j] + 1, table[i, j - 1] + 1, table[i - 1, j - 1] + (a != b))
    return table


def edit_distance(truth: Sequence, guess: Sequence) -> int:
    """Levenshtein distance: insertions, deletions and substitutions that turn ``guess`` into ``truth``."""
    return int(_distances(truth, guess)[-1, -1])


def confusions(truths: Sequence[str], guesses: Sequence[str]) -> Counter[tuple[str, str]]:
    """How often each edit happened: (true, read) for a substitution, (true, "") for a character missed, ("", read) for one added."""
    counts: Counter[tuple[str, str]] = Counter()
    for truth, guess in zip(truths, guesses):
        table, i, j = _distances(truth, guess), len(truth), len(guess)
        while i or j:  # walk one cheapest path back
            if i and j and table[i, j] == table[i - 1, j - 1] + (truth[i - 1] != guess[j - 1]):
                if truth[i - 1] != guess[j - 1]:
                    counts[truth[i - 1], guess[j - 1]] += 1
                i, j = i - 1, j - 1
            elif i and table[i, j] == table[i - 1, j] + 1:
                counts[truth[i - 1], ""] += 1
                i -= 1
            else:
                counts["", guess[j - 1]] += 1
                j -= 1
    return counts


def character_error_rate(truths: Sequence[str], guesses: Sequence[str]) -> float:
    """CER: all the edits needed to turn the guesses into the truths, per character of the truths."""
    if len(truths) != len(guesses):
        raise ValueError(f"{len(truths)} truths but {len(guesses)} guesses")
    return sum(edit_distance(t, g) for t, g in zip(truths, guesses)) / max(1, sum(len(t) for t in truths))
