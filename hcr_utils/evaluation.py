"""Scores and error analysis: accuracy, top-k, confusion matrix, confused pairs, mistakes."""

from __future__ import annotations

import time
from dataclasses import dataclass

import keras
import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from .datasets import Dataset


def predict_probabilities(
    model: keras.Model,
    images: np.ndarray,
    *,
    augmented_copies: int = 0,
    batch_size: int = 1024,
) -> np.ndarray:
    """Class probabilities for N×28×28 uint8 images, in batches.

    Test-time augmentation: with ``augmented_copies`` > 0 the probabilities are
    averaged over the image and that many copies passed through the model's
    own ``augmentation`` layer in training mode.
    """

    def predict(batch: np.ndarray) -> np.ndarray:
        return model.predict(np.asarray(batch, dtype=np.float32)[..., None], batch_size=batch_size, verbose=0)

    probabilities = predict(images)
    if augmented_copies:
        augment = model.get_layer("augmentation")
        batch = np.asarray(images, dtype=np.float32)[..., None]
        for _ in range(augmented_copies):
            copies = np.concatenate(
                [augment(batch[i : i + batch_size], training=True).numpy() for i in range(0, len(batch), batch_size)]
            )
            probabilities += predict(copies[..., 0])
        probabilities /= augmented_copies + 1
    return probabilities


def standard_error(accuracy: float, count: int) -> float:
    """The binomial standard error of an accuracy measured on ``count`` images: how much a rerun on new images moves it."""
    return float(np.sqrt(accuracy * (1.0 - accuracy) / count))


def step_gains(accuracies: dict[str, float], scored: int) -> dict[str, tuple[float, bool]]:
    """Each experiment's gain in accuracy over the one listed before it, and whether it is beyond the noise.

    A gain counts as real when it exceeds twice the standard error of a
    difference between two accuracies measured on ``scored`` images (√2 times
    that of one accuracy); smaller ones could come from the draw of images alone.
    """
    names, values = list(accuracies), list(accuracies.values())
    gains = {}
    for name, before, after in zip(names[1:], values, values[1:]):
        noise = 2 * np.sqrt(2) * standard_error((before + after) / 2, scored)
        gains[name] = (after - before, abs(after - before) > noise)
    return gains


def top_k_accuracy(probabilities: np.ndarray, labels: np.ndarray, k: int = 3) -> float:
    """Share of examples whose true class is among the ``k`` most probable."""
    best = np.argsort(-probabilities, axis=1)[:, :k]
    return float(np.mean((best == np.asarray(labels)[:, None]).any(axis=1)))


@dataclass(frozen=True)
class Evaluation:
    """A model's predictions on a test set, with the measures the notebooks show."""

    probabilities: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]
    seconds: float

    @property
    def predictions(self) -> np.ndarray:
        return self.probabilities.argmax(axis=1)

    @property
    def confidence(self) -> np.ndarray:
        return self.probabilities.max(axis=1)

    @property
    def accuracy(self) -> float:
        return float(np.mean(self.predictions == self.labels))

    def top_k(self, k: int = 3) -> float:
        return top_k_accuracy(self.probabilities, self.labels, k)

    def confusion(self) -> np.ndarray:
        """Counts: row = true class, column = predicted class."""
        return confusion_matrix(self.labels, self.predictions, labels=np.arange(len(self.classes)))

    def per_class(self) -> dict[str, np.ndarray]:
        """Precision, recall (= per-class accuracy), F1 and support of every class."""
        precision, recall, f1, support = precision_recall_fscore_support(
            self.labels, self.predictions, labels=np.arange(len(self.classes)), zero_division=0
        )
        return {"precision": precision, "recall": recall, "f1": f1, "support": support}

    def most_confused(self, n: int = 10) -> list[tuple[str, str, int]]:
        """The ``n`` largest off-diagonal cells as (true character, predicted character, count)."""
        counts = self.confusion().copy()
        np.fill_diagonal(counts, 0)
        order = np.argsort(-counts, axis=None)[:n]
        rows, cols = np.unravel_index(order, counts.shape)
        return [(self.classes[r], self.classes[c], int(counts[r, c])) for r, c in zip(rows, cols) if counts[r, c]]

    def mistakes(self, most_confident_first: bool = True) -> np.ndarray:
        """Indices of the wrongly predicted examples, the most confident errors first."""
        wrong = np.flatnonzero(self.predictions != self.labels)
        order = np.argsort(-self.confidence[wrong] if most_confident_first else self.confidence[wrong])
        return wrong[order]

    def summary(self, dataset: str) -> dict[str, float | int | str]:
        """The JSON line of ``hcr evaluate``."""
        result: dict[str, float | int | str] = {
            "dataset": dataset,
            "accuracy": round(self.accuracy, 4),
            "n": int(len(self.labels)),
            "seconds": round(self.seconds, 2),
        }
        if dataset == "emnist":
            result["top3"] = round(self.top_k(3), 4)
        return result


def evaluate(model: keras.Model, data: Dataset) -> Evaluation:
    """Predict ``data``'s test set with ``model`` and time it."""
    start = time.perf_counter()
    probabilities = predict_probabilities(model, data.x_test)
    return Evaluation(probabilities, data.y_test, data.classes, time.perf_counter() - start)
