"""The line reader ready for pictures: :class:`WordReader` reads any picture of one line, as ``Recognizer`` reads one character."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from ..preprocessing import LINE_HEIGHT, line_input
from ..saved import ModelFileError, compiled_predict, find_model, load_keras, read_labels, save_model
from .decoding import Lexicon, correct_prior, greedy_decode
from .lines import BLANK, STRIDE, batch_of, labels_text, pad_width
from .training import training_prior

READER_KIND = "words"
MODEL_NAME = "emnist_words.keras"  # the line reader's file, in my_models/ (yours) or saved_models/ (shipped)


@dataclass(frozen=True)
class LineReading:
    """What the reader read in one picture: the text, each character's probability, the line it saw, its frames."""

    text: str
    characters: list[tuple[str, float]]
    seen: np.ndarray  # the 28×W line the network read
    probabilities: np.ndarray  # frames × (blank + classes)


def save_reader(model: keras.Model, path: Path | str, classes: Sequence[str], dataset: str = "emnist") -> Path:
    """Save a CRNN as ``NAME.keras`` with its labels file: ``"kind": "words"``, the dataset whose characters
    wrote its training lines, its classes and its frames' geometry (line height, stride, blank)."""
    return save_model(
        model, path, dataset, classes, kind=READER_KIND, line_height=LINE_HEIGHT, stride=STRIDE, blank=BLANK
    )


def is_word_model(path: Path | str) -> bool:
    """Whether ``path``'s labels file says it reads lines (``"kind": "words"``).

    Raises:
        ModelNotFoundError: the model or its labels file is missing.
        ModelFileError: the labels file is damaged.
    """
    return read_labels(path)["kind"] == READER_KIND


def find_reader(models_dir: Path | str | None = None) -> Path:
    """Your line reader ``models_dir / MODEL_NAME`` (default ``config.models_dir()``) if you trained one, else the shipped one.

    Raises:
        ModelNotFoundError: neither exists; the message names what creates it.
    """
    return find_model(MODEL_NAME, models_dir)


class WordReader:
    """A trained CRNN ready for pictures of one line: ``read`` gives the text in a few milliseconds."""

    def __init__(self, model: keras.Model, classes: Sequence[str], lexicon: Lexicon | None = None) -> None:
        self.model, self.classes = model, tuple(classes)
        self._lexicon = lexicon
        self._prior: np.ndarray | None = None
        self._frames = compiled_predict(model, (LINE_HEIGHT, None, 1), softmax=True)
        outputs = self._frames(np.zeros((1, LINE_HEIGHT, LINE_HEIGHT, 1), np.float32)).shape[-1]  # trace now
        if outputs != len(self.classes) + 1:
            raise ModelFileError(f"the model gives {outputs} outputs for {len(self.classes)} classes and the blank")

    @classmethod
    def load(cls, path: Path | str) -> WordReader:
        """Load ``NAME.keras`` and ``NAME.labels.json`` written by :func:`save_reader`.

        Raises:
            ModelNotFoundError: a file is missing.
            ModelFileError: a damaged file, or a model that is not a line reader (e.g. a character model).
        """
        model, info = load_keras(path, READER_KIND)
        return cls(model, info["classes"])

    @property
    def lexicon(self) -> Lexicon:
        """The word list :meth:`read_word` chooses from (the shipped one unless given), built on first use."""
        if self._lexicon is None:
            self._lexicon = Lexicon.shipped()
        return self._lexicon

    @property
    def prior(self) -> np.ndarray:
        """Each class's share of the characters in the training lines (:func:`training_prior` of ``WORD_RECIPE``)."""
        if self._prior is None:
            self._prior = training_prior(self.classes)
        return self._prior

    def frame_probabilities(self, lines: Sequence[np.ndarray], batch_size: int = 64) -> list[np.ndarray]:
        """Frames × (blank + classes) probabilities of prepared 28×W lines, batched by similar widths."""
        order = np.argsort([line.shape[1] for line in lines])
        result: list[np.ndarray] = [np.empty(0)] * len(lines)
        for start in range(0, len(lines), batch_size):
            chosen = order[start : start + batch_size]
            probabilities = self._frames(batch_of([lines[i] for i in chosen]))
            for i, frames in zip(chosen, probabilities):
                result[i] = frames[: lines[i].shape[1] // STRIDE]
        return result

    def texts(self, lines: Sequence[np.ndarray], corrected: bool = False) -> list[str]:
        """Greedy readings of many prepared 28×W lines (e.g. a :class:`Lines`' images).

        ``corrected``: decode the frames after :func:`correct_prior`, for lines
        of random characters (words read worse without a word list: their
        letters *are* the common ones).
        """
        frames = self.frame_probabilities(lines)
        if corrected:
            frames = [correct_prior(p, self.prior) for p in frames]
        return [labels_text((c for c, _ in greedy_decode(p)), self.classes) for p in frames]

    def read_with_scores(self, image: np.ndarray) -> LineReading:
        """The text of a picture of one line, with each character's probability and the line the network saw.

        Raises:
            BlankImageError: the picture holds no character.
            ValueError: an array that is not an image.
        """
        seen = pad_width(line_input(image))
        probabilities = self.frame_probabilities([seen])[0]
        read = [(self.classes[c], p) for c, p in greedy_decode(probabilities)]
        return LineReading("".join(char for char, _ in read), read, seen, probabilities)

    def read(self, image: np.ndarray) -> str:
        """The text of a picture of one line (greedy decoding)."""
        return self.read_with_scores(image).text

    def read_word(self, image: np.ndarray) -> str | None:
        """The word of the lexicon this picture most likely writes (lower case), or None if no word fits."""
        return self.word(self.read_with_scores(image).probabilities)

    def word(self, probabilities: np.ndarray) -> str | None:
        """The lexicon's word for these frames (lower case, or None), decoded after :func:`correct_prior`."""
        return self.lexicon.decode(correct_prior(probabilities, self.prior), self.classes)
