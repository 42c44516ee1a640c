"""Load a trained model with its labels and read characters from pictures, fast.

A model is saved as ``NAME.keras`` plus ``NAME.labels.json`` (the dataset it
was trained on, which decides the preprocessing, and its class characters).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from . import config
from .models import RandomStrokeWidth
from .preprocessing import STYLES, prepare

CREATED_BY = {
    "mnist": "notebooks/03_mnist_improve_and_evaluate.ipynb or `python -m hcr_utils train mnist --out {path}`",
    "emnist": "notebooks/05_emnist_train.ipynb or `python -m hcr_utils train emnist --out {path}`",
}


SHIPPED_MODELS_DIR = config.PROJECT_ROOT / "saved_models"


class ModelNotFoundError(FileNotFoundError):
    """A saved model (or its labels file) is missing; the message says what creates it."""


def labels_path(model_path: Path | str) -> Path:
    """``NAME.keras`` → ``NAME.labels.json``."""
    path = Path(model_path)
    return path.with_name(path.name.removesuffix(".keras") + ".labels.json")


def save_model(model: keras.Model, path: Path | str, dataset: str, classes: tuple[str, ...] | list[str]) -> Path:
    """Save ``model`` for inference as a ``.keras`` file, with its labels file beside it.

    The file holds the architecture and the weights, not the optimizer's
    state: that is only needed to resume training and would triple the size.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"{path}: Keras 3 models are saved as .keras files")
    if dataset not in STYLES:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of {STYLES}")
    path.parent.mkdir(parents=True, exist_ok=True)
    keras.Model(model.inputs, model.outputs, name=model.name).save(path)  # same layers, no optimizer
    labels_path(path).write_text(json.dumps({"dataset": dataset, "classes": list(classes)}, indent=1))
    return path


def _missing_message(path: Path, what: str) -> str:
    hint = next((how.format(path=path) for name, how in CREATED_BY.items() if path.name.startswith(name)), None)
    hint = hint or "`python -m hcr_utils train mnist|emnist --out " + str(path) + "`"
    return f"{what} {path} not found: create it by running {hint}"


def find_model(name: str, models_dir: Path | str | None = None) -> Path:
    """Your model ``models_dir / name`` (default: ``config.models_dir()``) if you trained one, else the shipped one.

    Raises:
        ModelNotFoundError: neither exists; the message names what creates it.
    """
    folder = Path(models_dir) if models_dir is not None else config.models_dir()
    for path in dict.fromkeys((folder / name, SHIPPED_MODELS_DIR / name)):
        if path.exists() and labels_path(path).exists():
            return path
    raise ModelNotFoundError(_missing_message(folder / name, "model"))


def describe_source(path: Path | str) -> str:
    """Whose model ``path`` is, in words: the one shipped with the course, or one you trained."""
    path = Path(path).resolve()
    if path.parent == SHIPPED_MODELS_DIR.resolve():
        return f"the model shipped with the course ({path.name} in saved_models/)"
    return f"your model ({path})"


@dataclass
class Recognizer:
    """A trained model ready for single pictures: ``top_k`` answers in a few milliseconds."""

    model: keras.Model
    dataset: str
    classes: tuple[str, ...]

    def __post_init__(self) -> None:
        model = self.model

        @tf.function(input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.float32)], reduce_retracing=True)
        def probabilities(batch: tf.Tensor) -> tf.Tensor:
            return model(batch, training=False)

        self._probabilities = probabilities
        self.probabilities(np.zeros((1, 28, 28), np.uint8))  # trace now, so the first real answer is fast

    @classmethod
    def load(cls, path: Path | str) -> Recognizer:
        """Load ``NAME.keras`` and ``NAME.labels.json``.

        Raises:
            ModelNotFoundError: naming the notebook or command that creates the file.
        """
        path = Path(path)
        for needed, what in ((path, "model"), (labels_path(path), "labels file")):
            if not needed.exists():
                raise ModelNotFoundError(_missing_message(path, what) if needed == path else
                                         f"{what} {needed} not found; it is written next to the model by "
                                         "hcr_utils.inference.save_model")
        info = json.loads(labels_path(path).read_text())
        model = keras.saving.load_model(path, custom_objects={"hcr>RandomStrokeWidth": RandomStrokeWidth})
        return cls(model, info["dataset"], tuple(info["classes"]))

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities of prepared 28×28 uint8 images (N×28×28)."""
        batch = np.asarray(images, dtype=np.float32).reshape(-1, 28, 28, 1)
        return self._probabilities(tf.constant(batch)).numpy()

    def prepare(self, image: np.ndarray) -> np.ndarray:
        """The 28×28 image the model sees for ``image`` (this model's dataset conversion)."""
        return prepare(image, self.dataset)

    def best(self, prepared: np.ndarray, k: int = 3) -> list[tuple[str, float]]:
        """The ``k`` likeliest characters for one prepared 28×28 image, best first."""
        probs = self.probabilities(prepared[None])[0]
        return [(self.classes[i], float(probs[i])) for i in np.argsort(-probs)[:k]]

    def top_k(self, image: np.ndarray, k: int = 3) -> list[tuple[str, float]]:
        """The ``k`` likeliest characters for a picture of any size, best first.

        Raises:
            BlankImageError: the picture holds no character.
        """
        return self.best(self.prepare(image), k)
