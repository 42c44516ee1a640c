"""Training the line reader: its recipe, batches of lines written on the fly, the CTC loss, and the prior it learns."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import keras
import numpy as np

from .. import config
from ..datasets import Dataset
from ..training import learning_rate_schedule, steps_per_second
from .crnn import build_crnn, start_from_characters
from .lines import LineMaker, batch_of, ctc_targets, text_labels, word_list


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

    def __init__(
        self, maker: LineMaker, words: Sequence[str], recipe: WordRecipe, seed: int = config.SEED, **kwargs
    ) -> None:
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
    schedule = learning_rate_schedule(recipe.learning_rate, steps, recipe.warmup_share)
    model.compile(
        optimizer=keras.optimizers.AdamW(schedule, weight_decay=1e-4, global_clipnorm=5.0), loss=keras.losses.CTC()
    )
    return model


def fresh_crnn(data: Dataset, recipe: WordRecipe) -> keras.Model:
    """The recipe's CRNN for ``data``'s classes, untrained, in a fresh Keras session."""
    keras.backend.clear_session()
    return build_crnn(data.num_classes, sequence=recipe.sequence, units=recipe.units, window_rank=recipe.window_rank)


def measure_line_speed(data: Dataset, recipe: WordRecipe = WORD_RECIPE, seconds: float = 4.0) -> float:
    """Lines per second this machine trains the recipe's CRNN at, on a batch of lines of average length.

    The lines are written with ``data``'s training characters, as in training; the
    time to write them is not counted (the training writes them on other threads).
    """
    model = fresh_crnn(data, recipe)
    compile_crnn(model, recipe, steps=1000)
    batches = LineBatches(LineMaker(data, "train"), word_list(), recipe)
    average = next(
        batch for batch in map(batches.__getitem__, range(100)) if np.sum(batch[1][0] > 0) == recipe.max_length // 2
    )
    speed = recipe.batch_size * steps_per_second(lambda: model.train_on_batch(*average), seconds)
    keras.backend.clear_session()
    return speed


def train_crnn(
    data: Dataset,
    recipe: WordRecipe = WORD_RECIPE,
    *,
    words: Sequence[str] | None = None,
    characters: keras.Model | None = None,
    verbose: int | str = "auto",
) -> tuple[keras.Model, keras.callbacks.History]:
    """Build and train the recipe's CRNN on lines written with ``data``'s training images only.

    ``words``: the words its lines may write (default: the shipped training
    words). ``characters``: the trained character model to start from when
    ``recipe.from_characters``. The history gains ``seconds``, the time of the whole fit.
    """
    config.set_seed()
    model = fresh_crnn(data, recipe)
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


def training_prior(
    classes: Sequence[str], recipe: WordRecipe = WORD_RECIPE, words: Sequence[str] | None = None
) -> np.ndarray:
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
