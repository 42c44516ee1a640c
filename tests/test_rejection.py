""" "I can't read this": the rule refuses things that are not one character, and (almost) never a real one.

The rule's thresholds and its full measurement (2% of real test characters at most) come from
benchmarks/bench_reject.py on the development data; here it is checked on the shipped sample.
"""

from __future__ import annotations

import numpy as np
import pytest
from drawings import filled_blob, scribble, smudge, two_characters

from hcr_utils.datasets import Dataset
from hcr_utils.inference import Recognizer
from hcr_utils.preprocessing import BlankImageError
from hcr_utils.rejection import features, unreadable
from hcr_utils.strokes import redraw, render_strokes

pytest_plugins = ["widget_fixtures"]


def refused_share(recognizer: Recognizer, pictures: list[np.ndarray]) -> float:
    return float(np.mean([recognizer.read(picture).refusal is not None for picture in pictures]))


@pytest.mark.slow
def test_real_characters_are_read(
    emnist_recognizer: Recognizer, emnist_sample: Dataset, mnist_recognizer: Recognizer, mnist_sample: Dataset
) -> None:
    for recognizer, data in ((emnist_recognizer, emnist_sample), (mnist_recognizer, mnist_sample)):
        scans = list(data.x_test[:400])
        drawn = [redraw(image) for image in scans]
        assert refused_share(recognizer, scans) <= 0.04
        assert refused_share(recognizer, drawn) <= 0.04
        reading = recognizer.read(drawn[0])
        assert reading.refusal is None
        assert len(reading.guesses) == 3
        assert reading.seen.shape == (28, 28)


@pytest.mark.slow
def test_things_that_are_not_one_character_are_refused(
    emnist_recognizer: Recognizer, emnist_sample: Dataset, mnist_recognizer: Recognizer, mnist_sample: Dataset
) -> None:
    rng = np.random.default_rng(7)
    for recognizer, data, least in (
        (emnist_recognizer, emnist_sample, {"blob": 0.8, "two": 0.3, "smudge": 0.25}),
        (mnist_recognizer, mnist_sample, {"blob": 0.9, "two": 0.8, "smudge": 0.6}),
    ):
        pairs = rng.integers(0, len(data.y_test), (40, 2))
        kinds = {
            "blob": [render_strokes(filled_blob(rng)) for _ in range(40)],
            "two": [render_strokes(two_characters(data.x_test[a], data.x_test[b])) for a, b in pairs],
            "smudge": [smudge(rng) for _ in range(40)],
        }
        for kind, pictures in kinds.items():
            assert refused_share(recognizer, pictures) >= least[kind], (recognizer.dataset, kind)
        scribbles = [render_strokes(scribble(rng)) for _ in range(60)]
        assert refused_share(recognizer, scribbles) >= 0.1, recognizer.dataset  # the hardest kind: see the README


def test_refusals_say_why(emnist_recognizer: Recognizer) -> None:
    blob = render_strokes(filled_blob(np.random.default_rng(0)))
    assert "filled-in patch" in emnist_recognizer.read(blob).refusal
    assert emnist_recognizer.read(blob).guesses == []
    wide = render_strokes([[(0, 140), (280, 140)]])
    assert "much wider than one character" in emnist_recognizer.read(wide).refusal
    uniform = np.full(47, 1 / 47)
    assert unreadable(features(uniform, redraw(np.eye(28, dtype=np.uint8) * 255)), "emnist") == (
        "it does not look like any character this model knows"
    )
    with pytest.raises(BlankImageError):
        emnist_recognizer.read(np.zeros((280, 280), np.uint8))
