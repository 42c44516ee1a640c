"""Lines written with single characters: the training and test material of the line reader.

:class:`LineMaker` writes lines with the characters of *one* part of a dataset
(its training images, or its test images: never both), with random spacing,
touching and overlapping neighbours, size, baseline jitter and slant.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from .. import config
from ..datasets import Dataset
from ..preprocessing import LINE_HEIGHT

STRIDE = 4  # pixels of line per frame: the CRNN's two poolings halve the width twice
BLANK = 0  # CTC's blank is output 0; class c of the dataset is output c + 1


def word_list(part: str = "train") -> list[str]:
    """The shipped English words: ``"train"`` (written in training lines), ``"held_out"`` (never), or ``"all"``."""
    if part == "all":
        return word_list("train") + word_list("held_out")
    if part not in ("train", "held_out"):
        raise ValueError(f"part must be 'train', 'held_out' or 'all', not {part!r}")
    return (config.WORDS_DIR / f"{part}.txt").read_text().split()


def text_labels(text: str, classes: Sequence[str]) -> np.ndarray:
    """Class indices that write ``text``: a letter without a class of its own uses its merged upper-case class (c → C)."""
    labels = []
    for char in text:
        match = char if char in classes else char.upper()
        if match not in classes:
            raise ValueError(f"{char!r} is not among the {len(classes)} classes")
        labels.append(classes.index(match))
    return np.array(labels, np.int64)


def labels_text(labels: Iterable[int], classes: Sequence[str]) -> str:
    """The characters of class indices."""
    return "".join(classes[int(label)] for label in labels)


@dataclass(frozen=True)
class LineStyle:
    """How a line is written: pixels between neighbours, size, baseline jitter and slant, each drawn at random."""

    gap: tuple[float, float] = (-5.0, 7.0)  # pixels between two characters' ink; below 0 they overlap
    max_overlap: float = 0.3  # ... but by at most this share of the narrower one
    scale: tuple[float, float] = (0.7, 1.0)  # size of each character relative to the line's height
    jitter: float = 2.0  # baseline moves up or down by up to this many pixels per character
    slant: float = 0.3  # the line is sheared by up to this much (pixels right per pixel up)
    margin: tuple[int, int] = (2, 8)  # blank pixels left and right


@dataclass(frozen=True)
class Lines:
    """Line images (28×W uint8, white on black), their class labels and the source image of every character."""

    images: list[np.ndarray]
    labels: list[np.ndarray]
    sources: list[np.ndarray]  # indices into the part's images, one per character
    part: str

    def texts(self, classes: Sequence[str]) -> list[str]:
        return [labels_text(label, classes) for label in self.labels]


class LineMaker:
    """Writes lines with the character images of one part of ``data``: ``"train"`` or ``"test"``."""

    def __init__(self, data: Dataset, part: str, style: LineStyle = LineStyle()) -> None:
        if part not in ("train", "test"):
            raise ValueError(f"part must be 'train' or 'test', not {part!r}")
        self.part, self.style, self.classes = part, style, data.classes
        self.images = data.x_train if part == "train" else data.x_test
        labels = data.y_train if part == "train" else data.y_test
        self._by_class = [np.flatnonzero(labels == c) for c in range(data.num_classes)]
        if any(len(members) == 0 for members in self._by_class):
            raise ValueError(f"every class needs images in {data.name}'s {part} part")
        inked = self.images.max(axis=1) > 40  # the columns each character's ink occupies
        self._left = inked.argmax(axis=1)
        self._right = inked.shape[1] - inked[:, ::-1].argmax(axis=1)

    def random_text(self, rng: np.random.Generator, length: int) -> np.ndarray:
        """``length`` class indices drawn uniformly."""
        return rng.integers(0, len(self.classes), length)

    def word(self, word: str, rng: np.random.Generator) -> np.ndarray:
        """Class indices of ``word`` written in lower case (most often), Capitalised or in CAPITALS."""
        case = rng.choice(3, p=[0.7, 0.15, 0.15])
        return text_labels((word.lower(), word.capitalize(), word.upper())[case], self.classes)

    def _glyph(self, source: int, rng: np.random.Generator) -> tuple[np.ndarray, int]:
        """One character's ink columns, scaled at random, and its top row on the line."""
        glyph = self.images[source][:, self._left[source] : self._right[source]]
        scale = rng.uniform(*self.style.scale)
        height, width = max(8, round(LINE_HEIGHT * scale)), max(1, round(glyph.shape[1] * scale))
        if (height, width) != glyph.shape:
            glyph = np.asarray(Image.fromarray(glyph).resize((width, height), Image.Resampling.BILINEAR))
        top = (LINE_HEIGHT - height) // 2 + round(rng.uniform(-self.style.jitter, self.style.jitter))
        return glyph, int(np.clip(top, 0, LINE_HEIGHT - height))

    def render(self, labels: Sequence[int], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """A line writing the classes ``labels``, each with a random image of its class; and those images' indices."""
        style = self.style
        sources = np.array([rng.choice(self._by_class[label]) for label in labels], np.int64)
        glyphs = [self._glyph(int(source), rng) for source in sources]
        lefts, x = [], int(rng.integers(*style.margin))
        for i, (glyph, _) in enumerate(glyphs):
            lefts.append(x)
            if i + 1 < len(glyphs):
                narrower = min(glyph.shape[1], glyphs[i + 1][0].shape[1])
                x += glyph.shape[1] + max(round(rng.uniform(*style.gap)), -int(style.max_overlap * narrower))
        width = x + glyphs[-1][0].shape[1] + int(rng.integers(*style.margin)) if glyphs else 2 * STRIDE
        pad = int(np.ceil(style.slant * LINE_HEIGHT / 2)) + 1  # room for the slant on both sides
        line = np.zeros((LINE_HEIGHT, width + 2 * pad), np.uint8)
        for (glyph, top), left in zip(glyphs, lefts):
            region = line[top : top + glyph.shape[0], pad + left : pad + left + glyph.shape[1]]
            np.maximum(region, glyph, out=region)
        slant = rng.uniform(
            -style.slant, style.slant
        )  # each output pixel (x, y) reads the input at (x + slant (y - mid), y)
        sheared = Image.fromarray(line).transform(
            line.shape[::-1],
            Image.Transform.AFFINE,
            (1, slant, -slant * LINE_HEIGHT / 2, 0, 1, 0),
            Image.Resampling.BILINEAR,
        )
        return pad_width(trim(np.asarray(sheared))), sources

    def lines(self, texts: Sequence[np.ndarray], seed: int = config.SEED) -> Lines:
        """One line per label sequence in ``texts``, the same lines for the same seed."""
        rng = np.random.default_rng(seed)
        images, sources = zip(*(self.render(labels, rng) for labels in texts)) if texts else ((), ())
        return Lines(list(images), [np.asarray(t) for t in texts], list(sources), self.part)

    def random_lines(self, count: int, max_length: int = 10, seed: int = config.SEED) -> Lines:
        """``count`` lines of 1 to ``max_length`` random characters."""
        rng = np.random.default_rng(seed)
        texts = [self.random_text(rng, int(rng.integers(1, max_length + 1))) for _ in range(count)]
        return self.lines(texts, seed)

    def word_lines(self, words: Sequence[str], seed: int = config.SEED) -> Lines:
        """One line per word of ``words``."""
        rng = np.random.default_rng(seed)
        return self.lines([self.word(word, rng) for word in words], seed)


def trim(line: np.ndarray, margin: int = 4) -> np.ndarray:
    """The line cut to its ink's columns plus ``margin`` blank pixels on each side."""
    columns = np.flatnonzero(line.max(axis=0) > 0)
    if columns.size == 0:
        return line
    return np.pad(line[:, columns[0] : columns[-1] + 1], ((0, 0), (margin, margin)))


def pad_width(line: np.ndarray) -> np.ndarray:
    """The line padded on the right to a multiple of ``STRIDE`` pixels (at least one window of 28)."""
    width = max(LINE_HEIGHT, -(-line.shape[1] // STRIDE) * STRIDE)
    return np.pad(line, ((0, 0), (0, width - line.shape[1])))


def batch_of(lines: Sequence[np.ndarray]) -> np.ndarray:
    """Lines of different widths as one N×28×W×1 float32 batch, padded with background on the right."""
    width = max(line.shape[1] for line in lines)
    batch = np.zeros((len(lines), LINE_HEIGHT, width, 1), np.float32)
    for i, line in enumerate(lines):
        batch[i, :, : line.shape[1], 0] = line
    return batch


def ctc_targets(labels: Sequence[np.ndarray]) -> np.ndarray:
    """Labels as CTC targets: class c becomes c + 1 (0 is the blank), padded with 0 to the longest."""
    targets = np.zeros((len(labels), max(1, max(len(label) for label in labels))), np.int32)
    for i, label in enumerate(labels):
        targets[i, : len(label)] = np.asarray(label) + 1
    return targets
