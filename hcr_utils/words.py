"""Read a handwritten line of characters: lines built from EMNIST characters, a CRNN trained with CTC, its decoders.

* :class:`LineMaker` writes lines with the characters of *one* part of a
  dataset (its training images, or its test images: never both), with random
  spacing, touching and overlapping neighbours, size, baseline jitter and slant.
* :func:`build_crnn` is a convolutional network slid along the line (one frame
  every ``STRIDE`` pixels) with a bidirectional recurrent layer on top; each
  frame gets a probability for every character and for the CTC *blank*.
* CTC (Graves et al. 2006) trains it from the text alone, without saying where
  each character is; :func:`greedy_decode`, :func:`beam_decode` and
  :class:`Lexicon` (beam search restricted to a word list) read the frames.
* :class:`WordReader` reads any picture of one line, like ``Recognizer`` reads one character.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras import layers
from PIL import Image
from scipy import ndimage

from . import config
from .datasets import Dataset
from .inference import CREATED_BY, ModelNotFoundError, Recognizer, find_model, labels_path
from .models import _conv_block
from .preprocessing import INK_THRESHOLD, MIN_EXTENT, BlankImageError, ink_map
from .training import Recipe, learning_rate_schedule

LINE_HEIGHT = 28  # a line is as tall as one EMNIST character
INK_HEIGHT = 24  # a picture's ink is scaled to this height, 2 pixels of margin above and below (EMNIST's own margins)
STRIDE = 4  # pixels of line per frame: the two poolings halve the width twice
MAX_WIDTH = 2048  # a longer line is shrunk to this many pixels of width
BLANK = 0  # CTC's blank is output 0; class c of the dataset is output c + 1
WORDS_DIR = config.PROJECT_ROOT / "data" / "words"
READER_KIND = "words"
MODEL_NAME = "emnist_words.keras"  # the line reader's file, in my_models/ (yours) or saved_models/ (shipped)


def word_list(part: str = "train") -> list[str]:
    """The shipped English words: ``"train"`` (written in training lines), ``"held_out"`` (never), or ``"all"``."""
    if part == "all":
        return word_list("train") + word_list("held_out")
    if part not in ("train", "held_out"):
        raise ValueError(f"part must be 'train', 'held_out' or 'all', not {part!r}")
    return (WORDS_DIR / f"{part}.txt").read_text().split()


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


# --- lines made from single characters ------------------------------------------------------------------------
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
        slant = rng.uniform(-style.slant, style.slant)  # each output pixel (x, y) reads the input at (x + slant (y - mid), y)
        sheared = Image.fromarray(line).transform(line.shape[::-1], Image.Transform.AFFINE,
                                                  (1, slant, -slant * LINE_HEIGHT / 2, 0, 1, 0),
                                                  Image.Resampling.BILINEAR)
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


# --- a picture of a line, as the network sees it -----------------------------------------------------------------
def line_input(image: np.ndarray) -> np.ndarray:
    """Any picture of one line (grey, RGB or RGBA, any size, dark on light or light on dark) → 28×W uint8 white on black.

    Like EMNIST's conversion of a character (``preprocessing.to_emnist``), but
    for a line: blur by 1/64 of the ink's height, crop to the ink, scale its
    height to 24 pixels and keep the width in proportion.

    Raises:
        BlankImageError: no ink, or only a speck.
        ValueError: an array that is not an image.
    """
    ink = ink_map(image)
    rows, cols = (np.flatnonzero((ink > INK_THRESHOLD).any(axis=axis)) for axis in (1, 0))
    if rows.size == 0:
        raise BlankImageError("the picture is blank: write a word")
    height, width = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
    if max(height, width) < MIN_EXTENT * min(ink.shape):
        raise BlankImageError("the mark is too small to be a character: write bigger")
    blurred = ndimage.gaussian_filter(ink, sigma=max(height / 64.0, 0.5))
    rows, cols = (np.flatnonzero((blurred > INK_THRESHOLD).any(axis=axis)) for axis in (1, 0))
    crop = blurred[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    scale = min(INK_HEIGHT / crop.shape[0], MAX_WIDTH / crop.shape[1])
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    resample = Image.Resampling.BOX if scale < 0.5 else Image.Resampling.BILINEAR
    small = np.asarray(Image.fromarray(crop.astype(np.float32), mode="F").resize(size, resample))
    top = (LINE_HEIGHT - small.shape[0]) // 2
    line = np.zeros((LINE_HEIGHT, small.shape[1] + 2 * STRIDE), np.float32)
    line[top : top + small.shape[0], STRIDE : STRIDE + small.shape[1]] = small
    return pad_width(np.round(255 * np.clip(line / max(line.max(), 1e-6), 0, 1)).astype(np.uint8))


# --- the network ------------------------------------------------------------------------------------------------
CHARACTER_LAYERS = ("block1_conv1", "block1_bn1", "block2_conv1", "block2_bn1", "block3_conv1", "block3_bn1")


def build_crnn(num_classes: int, *, sequence: str = "lstm", units: int = 128, window_rank: int = 64,
               dropout: float = 0.25, name: str = "crnn") -> keras.Model:
    """A CRNN: the character CNN's convolutions slid along a 28-pixel-high line, then a bidirectional sequence layer.

    The convolutions and two poolings turn the line into a 7-row map, one column
    per 4 pixels; ``window`` (a 7×7 convolution, the character model's dense
    layer made convolutional) looks at 28 pixels around each column, as the
    character model looks at one 28×28 image. It is factored in two, a 7×7
    convolution to ``window_rank`` maps and a 1×1 one to 256 features, which
    keeps a quarter of its weights (and of the file). ``sequence`` then reads the
    frames in both directions: ``"lstm"``, ``"gru"`` or ``"conv"`` (two 1-D
    convolutions, 9 frames wide in all). The output gives, for every frame,
    logits for the blank (0) and each class (1..``num_classes``).
    """
    inputs = keras.Input((LINE_HEIGHT, None, 1), name="pixels")
    x = layers.Rescaling(1.0 / 255, name="rescale")(inputs)
    for block, width in enumerate((32, 64, 128), start=1):
        if block > 1:
            x = layers.MaxPooling2D(name=f"pool{block - 1}")(x)
        x = _conv_block(x, width, 1, True, f"block{block}")
    x = layers.ZeroPadding2D(((0, 0), (3, 3)), name="window_pad")(x)
    x = layers.Conv2D(window_rank, (7, 7), use_bias=False, name="window")(x)
    x = layers.Conv2D(256, 1, use_bias=False, name="window_mix")(x)
    x = layers.BatchNormalization(momentum=0.9, name="window_bn")(x)
    x = layers.Activation("relu", name="window_relu")(x)
    x = layers.Reshape((-1, 256), name="frames")(x)
    frames = layers.Dropout(dropout, name="frames_drop")(x)
    if sequence in ("lstm", "gru"):
        cell = layers.LSTM if sequence == "lstm" else layers.GRU
        x = layers.Bidirectional(cell(units, return_sequences=True), name="sequence")(frames)
    elif sequence == "conv":
        x = frames
        for i in (1, 2):
            x = layers.Conv1D(2 * units, 5, padding="same", activation="relu", name=f"sequence{i}")(x)
    else:
        raise ValueError(f"sequence must be 'lstm', 'gru' or 'conv', not {sequence!r}")
    x = layers.Concatenate(name="frames_and_sequence")([frames, x])
    outputs = layers.Dense(num_classes + 1, name="logits")(x)
    return keras.Model(inputs, outputs, name=name)


def start_from_characters(crnn: keras.Model, characters: keras.Model) -> None:
    """Copy a trained character CNN (``build_cnn`` with a flatten head) into the CRNN's convolutions and window.

    The character model's dense layer reads a 7×7×128 map flattened row by row,
    the layout of a 7×7 convolution's kernel: reshaped, it becomes the window;
    its best approximation of the window's rank (the largest singular values,
    by SVD) is split between ``window`` and ``window_mix``.
    Its output layer becomes the part of ``logits`` that reads the window's
    features (the sequence layer's part starts at zero, the blank's column
    learns from scratch): from the first step, a frame centred on a character names it.
    """
    for name in CHARACTER_LAYERS:
        crnn.get_layer(name).set_weights(characters.get_layer(name).get_weights())
    window, mix = crnn.get_layer("window"), crnn.get_layer("window_mix")
    u, s, vt = np.linalg.svd(characters.get_layer("dense").get_weights()[0], full_matrices=False)
    rank = window.kernel.shape[-1]
    window.set_weights([(u[:, :rank] * s[:rank]).reshape(window.kernel.shape)])
    mix.set_weights([vt[:rank].reshape(mix.kernel.shape)])
    crnn.get_layer("window_bn").set_weights(characters.get_layer("dense_bn").get_weights())
    kernel, bias = (np.zeros_like(weights) for weights in crnn.get_layer("logits").get_weights())
    char_kernel, char_bias = characters.get_layer("probabilities").get_weights()
    kernel[: len(char_kernel), 1:], bias[1:] = char_kernel, char_bias
    crnn.get_layer("logits").set_weights([kernel, bias])


# --- training -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WordRecipe:
    """Everything that decides a CRNN training run, apart from the data; its length is a budget of lines."""

    lines: int = 200_000  # lines seen in all
    batch_size: int = 32
    learning_rate: float = 1e-3
    warmup_share: float = 0.05
    word_share: float = 0.2  # share of lines that write a word of the list; the others are random characters
    max_length: int = 10  # random lines hold 1 to this many characters
    sequence: str = "lstm"
    units: int = 128
    window_rank: int = 64
    from_characters: bool = True  # start the convolutions from the trained character model
    parts: int = 10  # the budget is cut into this many "epochs", for the learning curves

    def steps(self) -> int:
        return max(self.parts, self.lines // self.batch_size)


WORD_RECIPE = WordRecipe()


class LineBatches(keras.utils.PyDataset):
    """Batches of lines written on the fly: (N×28×W×1 pixels, CTC targets), every line of a batch equally long.

    A batch holds one number of characters (drawn anew for each batch), so its
    lines have similar widths and little padding. Batch ``i`` of part ``p`` is
    the same on every run with the same seed.
    """

    def __init__(self, maker: LineMaker, words: Sequence[str], recipe: WordRecipe, seed: int = config.SEED,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.maker, self.recipe, self.seed, self.part = maker, recipe, seed, 0
        self._words_by_length: dict[int, list[str]] = {}
        for word in words:
            self._words_by_length.setdefault(len(word), []).append(word)

    def __len__(self) -> int:
        return self.recipe.steps() // self.recipe.parts

    def texts(self, rng: np.random.Generator) -> list[np.ndarray]:
        """The label sequences of one batch: words of the list, or random characters, all of one length."""
        length = int(rng.integers(1, self.recipe.max_length + 1))
        words = self._words_by_length.get(length, [])
        texts = []
        for _ in range(self.recipe.batch_size):
            if words and rng.random() < self.recipe.word_share:
                texts.append(self.maker.word(words[rng.integers(len(words))], rng))
            else:
                texts.append(self.maker.random_text(rng, length))
        return texts

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng([self.seed, self.part, index])
        texts = self.texts(rng)
        return batch_of([self.maker.render(labels, rng)[0] for labels in texts]), ctc_targets(texts)

    def on_epoch_end(self) -> None:
        self.part += 1


def compile_crnn(model: keras.Model, recipe: WordRecipe, steps: int) -> keras.Model:
    """AdamW with warm-up + cosine decay (``training.learning_rate_schedule``), clipped gradients, and the CTC loss."""
    schedule = learning_rate_schedule(Recipe(learning_rate=recipe.learning_rate, warmup_share=recipe.warmup_share), steps)
    model.compile(optimizer=keras.optimizers.AdamW(schedule, weight_decay=1e-4, global_clipnorm=5.0),
                  loss=keras.losses.CTC())
    return model


def train_crnn(data: Dataset, recipe: WordRecipe = WORD_RECIPE, *, words: Sequence[str] | None = None,
               characters: keras.Model | None = None, verbose: int | str = "auto") -> tuple[keras.Model, keras.callbacks.History]:
    """Build and train the recipe's CRNN on lines written with ``data``'s training images only.

    ``words``: the words its lines may write (default: the shipped training
    words). ``characters``: the trained character model to start from when
    ``recipe.from_characters``. The history gains ``seconds``, the time of the whole fit.
    """
    config.set_seed()
    keras.backend.clear_session()
    model = build_crnn(data.num_classes, sequence=recipe.sequence, units=recipe.units, window_rank=recipe.window_rank)
    if recipe.from_characters:
        if characters is None:
            raise ValueError("this recipe starts from a character model: pass characters=")
        start_from_characters(model, characters)
    batches = LineBatches(LineMaker(data, "train"), word_list() if words is None else words, recipe, workers=2)
    compile_crnn(model, recipe, recipe.steps())
    start = time.perf_counter()
    history = model.fit(batches, epochs=recipe.parts, verbose=verbose)
    history.history["seconds"] = [time.perf_counter() - start]
    return model, history


# --- reading the frames -----------------------------------------------------------------------------------------------
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
    decoded, _ = keras.ops.ctc_decode(np.log(probabilities + 1e-12)[None].astype(np.float32),
                                      np.array([len(probabilities)]), strategy="beam_search",
                                      beam_width=beam_width, mask_index=BLANK)
    return [int(output) - 1 for output in np.asarray(decoded)[0, 0] if output > BLANK]


# Prior correction, tuned on 2,000 lines written with training images (never on test lines): greedy CER 12.2% → 11.7%
PRIOR_TAU = 0.75  # a class's frame probability is divided by (its share of training characters × classes) ** PRIOR_TAU
BLANK_SCALE = 0.35  # ... and the blank's multiplied by this, before renormalising


def training_prior(classes: Sequence[str], recipe: WordRecipe = WORD_RECIPE,
                   words: Sequence[str] | None = None) -> np.ndarray:
    """Each class's share of the characters that ``recipe``'s training lines write (see :meth:`LineBatches.texts`).

    Lines hold 1 to ``max_length`` characters, every length equally often; a
    line is a word of that length (lower case 70%, Capitalised 15%, CAPITALS
    15%) with probability ``word_share`` when the list has one, else random
    characters of all the classes. So letters of common words (e, a, r...) are
    written more often than digits, which no word holds.
    """
    words = word_list() if words is None else words
    by_length: dict[int, list[str]] = {}
    for word in words:
        by_length.setdefault(len(word), []).append(word)
    counts = np.zeros(len(classes))
    for length in range(1, recipe.max_length + 1):
        same = by_length.get(length, [])
        share = recipe.word_share if same else 0.0
        counts += (1 - share) * length / len(classes)
        for word in same:
            for text, p in ((word.lower(), 0.7), (word.capitalize(), 0.15), (word.upper(), 0.15)):
                np.add.at(counts, text_labels(text, classes), share * p / len(same))
    return counts / counts.sum()


def correct_prior(probabilities: np.ndarray, prior: np.ndarray, tau: float = PRIOR_TAU,
                  blank_scale: float = BLANK_SCALE) -> np.ndarray:
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

    def decode(self, probabilities: np.ndarray, classes: Sequence[str], beam_width: int = 16,
               prune: float = 1e-4) -> str | None:
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
        words = [(np.logaddexp(*scores), nodes[prefix][END]) for prefix, scores in beams.items() if END in nodes[prefix]]
        return max(words)[1] if words else None


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


# --- reading pictures -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LineReading:
    """What the reader read in one picture: the text, each character's probability, the line it saw, its frames."""

    text: str
    characters: list[tuple[str, float]]
    seen: np.ndarray  # the 28×W line the network read
    probabilities: np.ndarray  # frames × (blank + classes)


def save_reader(model: keras.Model, path: Path | str, classes: Sequence[str]) -> Path:
    """Save a CRNN as ``NAME.keras`` with ``NAME.labels.json`` (``"kind": "words"``, its classes, line height, stride)."""
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"{path}: Keras 3 models are saved as .keras files")
    path.parent.mkdir(parents=True, exist_ok=True)
    keras.Model(model.inputs, model.outputs, name=model.name).save(path)  # no optimizer state
    info = {"kind": READER_KIND, "dataset": "emnist", "classes": list(classes), "line_height": LINE_HEIGHT,
            "stride": STRIDE, "blank": BLANK}
    labels_path(path).write_text(json.dumps(info, indent=1))
    return path


def is_word_model(path: Path | str) -> bool:
    """Whether ``path``'s labels file says it reads lines (``"kind": "words"``)."""
    try:
        return json.loads(labels_path(path).read_text()).get("kind") == READER_KIND
    except (OSError, ValueError):
        return False


def _missing(path: Path) -> ModelNotFoundError:
    """The error for a missing line-reader file, whatever its name: what creates one."""
    return ModelNotFoundError(f"{path} not found: create it by running {CREATED_BY['emnist_words'].format(path=path)}")


def find_reader(models_dir: Path | str | None = None) -> Path:
    """Your line reader ``models_dir / MODEL_NAME`` (default ``config.models_dir()``) if you trained one, else the shipped one.

    Raises:
        ModelNotFoundError: neither exists; the message names what creates it.
    """
    return find_model(MODEL_NAME, models_dir)


def _compiled(model: keras.Model) -> Callable[[np.ndarray], np.ndarray]:
    """Frame probabilities through a traced function (any batch size and width): milliseconds per line."""

    @tf.function(input_signature=[tf.TensorSpec([None, LINE_HEIGHT, None, 1], tf.float32)], reduce_retracing=True)
    def frames(batch: tf.Tensor) -> tf.Tensor:
        return tf.nn.softmax(model(batch, training=False), axis=-1)

    return lambda batch: frames(tf.constant(batch)).numpy()


class WordReader:
    """A trained CRNN ready for pictures of one line: ``read`` gives the text in a few milliseconds."""

    def __init__(self, model: keras.Model, classes: Sequence[str], lexicon: Lexicon | None = None) -> None:
        self.model, self.classes = model, tuple(classes)
        self._lexicon = lexicon
        self._prior: np.ndarray | None = None
        self._frames = _compiled(model)
        outputs = self._frames(np.zeros((1, LINE_HEIGHT, LINE_HEIGHT, 1), np.float32)).shape[-1]  # trace now
        if outputs != len(self.classes) + 1:
            raise ValueError(f"the model gives {outputs} outputs for {len(self.classes)} classes and the blank")

    @classmethod
    def load(cls, path: Path | str) -> WordReader:
        """Load ``NAME.keras`` and ``NAME.labels.json`` written by :func:`save_reader`.

        Raises:
            ModelNotFoundError: a file is missing.
            ValueError: the model is not a line reader (e.g. a character model).
        """
        path = Path(path)
        for needed in (path, labels_path(path)):
            if not needed.exists():
                raise _missing(needed)
        if not is_word_model(path):
            raise ValueError(f"{path} is not a line reader (its labels file has no \"kind\": \"words\")")
        info = json.loads(labels_path(path).read_text())
        return cls(keras.saving.load_model(path), info["classes"])

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
        seen = line_input(image)
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


# --- the baseline: cut the line into characters, read each one ----------------------------------------------------
def segment(line: np.ndarray, split_width: float = 0.9, overlap: float = 0.5) -> list[tuple[int, int]]:
    """Column spans of the characters of a 28×W white-on-black line, found from its ink's connected components.

    Components that share more than ``overlap`` of the narrower one's columns
    are one character (an i's dot, a broken stroke); a component wider than
    ``split_width`` × the line's ink height is taken for touching characters and
    cut into as many pieces of that width, at the columns with the least ink.
    """
    ink = line > INK_THRESHOLD * max(int(line.max()), 1)
    components, count = ndimage.label(ink, structure=np.ones((3, 3)))
    boxes = [(box[1].start, box[1].stop) for box in ndimage.find_objects(components)]
    sizes = ndimage.sum(ink, components, range(1, count + 1)) if count else []
    spans: list[list[int]] = []
    for (left, right), size in sorted(zip(boxes, sizes)):
        if size < 4:  # specks
            continue
        if spans:
            shared = min(right, spans[-1][1]) - max(left, spans[-1][0])
            if shared > overlap * min(right - left, spans[-1][1] - spans[-1][0]):
                spans[-1] = [min(left, spans[-1][0]), max(right, spans[-1][1])]
                continue
        spans.append([left, right])
    rows = np.flatnonzero(ink.any(axis=1))
    width = split_width * (rows[-1] - rows[0] + 1) if rows.size else LINE_HEIGHT
    profile = (line * ink).sum(axis=0)
    cut: list[tuple[int, int]] = []
    for left, right in spans:
        pieces = max(1, round((right - left) / width))
        edges = [left]
        for k in range(1, pieces):  # the lightest column near each even cut
            ideal = left + k * (right - left) // pieces
            near = slice(max(edges[-1] + 1, ideal - 4), min(right - 1, ideal + 5))
            edges.append(near.start + int(profile[near].argmin()) if near.stop > near.start else ideal)
        edges.append(right)
        cut += list(zip(edges[:-1], edges[1:]))
    return cut


def read_by_segments(recognizer: Recognizer, line: np.ndarray, split_width: float = 0.9) -> str:
    """Segment-then-read: each piece of a prepared 28×W line (see :func:`segment`) read by a character ``Recognizer``."""
    pieces = []
    for left, right in segment(line, split_width):
        try:
            pieces.append(recognizer.prepare(np.pad(line[:, left:right], 2)))
        except BlankImageError:  # a piece with too little ink to be a character
            continue
    if not pieces:
        return ""
    return labels_text(recognizer.probabilities(np.stack(pieces)).argmax(axis=1), recognizer.classes)
