"""When to say "I can't read this" instead of guessing: a rule on the model's answer and on the ink.

A network always returns probabilities, even for a scribble. The rule below
refuses a picture when the ink looks nothing like one character (a
coloured-in patch, or something much wider than a character) or when the
model spreads its belief too thinly (little probability in its three best
guesses). Its thresholds were chosen with ``benchmarks/bench_reject.py`` so
that at most 2% of real test characters, scanned or drawn, are refused; the
README gives what it catches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .preprocessing import INK_THRESHOLD, BlankImageError, ink_map

# Per dataset (the models' calibration and the characters' shapes differ), chosen with benchmarks/bench_reject.py
# so that at most 2% of real test characters, scanned or redrawn on the pad, are refused.
MAX_SOLID = {"emnist": 0.39, "mnist": 0.30}  # share of the ink deep inside a filled area: a coloured-in patch
MAX_ASPECT = {"emnist": 2.0, "mnist": 1.55}  # width / height of the ink: two characters side by side are wide
MIN_TOP3 = {"emnist": 0.50, "mnist": 0.75}  # the model's belief that the answer is among its three guesses
SOLID_DEPTH = 0.12  # "deep": farther than this share of the ink's larger side from the paper


@dataclass(frozen=True)
class Features:
    """What the rule looks at: the model's answer, and the shape of the ink."""

    confidence: float  # probability of the best guess
    margin: float  # best minus second best
    top3: float  # probability that the answer is among the three best guesses
    entropy: float  # in nats: 0 for a sure answer, log(classes) for no idea at all
    solid: float  # share of the ink that lies deep inside filled areas (see SOLID_DEPTH)
    aspect: float  # width / height of the ink's bounding box


def features(probabilities: np.ndarray, picture: np.ndarray) -> Features:
    """The rule's inputs for one picture and the model's probabilities for it.

    Raises:
        BlankImageError: the picture holds no ink.
    """
    ranked = np.sort(probabilities)[::-1]
    ink = ink_map(picture) > INK_THRESHOLD
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        raise BlankImageError("the picture is blank: draw a character")
    box = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    depth = ndimage.distance_transform_edt(np.pad(box, 1))[1:-1, 1:-1]  # distance of each pixel from the paper
    solid = float(np.mean(depth[box] > SOLID_DEPTH * max(box.shape)))
    entropy = float(-(probabilities * np.log(np.clip(probabilities, 1e-12, 1.0))).sum())
    return Features(
        float(ranked[0]),
        float(ranked[0] - ranked[1]),
        float(ranked[:3].sum()),
        entropy,
        solid,
        float(box.shape[1] / box.shape[0]),
    )


def unreadable(found: Features, dataset: str = "emnist") -> str | None:
    """Why the picture cannot be read as one character, or None when it can."""
    if found.solid > MAX_SOLID[dataset]:
        return "it looks like a filled-in patch, not a character"
    if found.aspect > MAX_ASPECT[dataset]:
        return "it is much wider than one character: draw one character at a time"
    if found.top3 < MIN_TOP3[dataset]:
        return "it does not look like any character this model knows"
    return None
