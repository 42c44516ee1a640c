"""Load a trained model with its labels and read characters from pictures, fast.

A model is saved as ``NAME.keras`` plus ``NAME.labels.json`` (the dataset it
was trained on, which decides the preprocessing, and its class characters).
Its LiteRT export ``NAME.tflite`` (see :mod:`hcr_utils.export`) has the same
labels file beside it and loads the same way, run by ``ai-edge-litert``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter

from . import config
from .models import RandomStrokeWidth
from .preprocessing import STYLES, prepare
from .rejection import features, unreadable
from .runtime import native_stderr_hidden

CREATED_BY = {  # what creates a missing model, by the start of its file name (the first that matches)
    "emnist_words": "notebooks/14_train_the_line_reader.ipynb or `python -m hcr_utils train words --out {path}`",
    "mnist": "notebooks/04_mnist_improve_and_evaluate.ipynb or `python -m hcr_utils train mnist --out {path}`",
    "emnist": "notebooks/06_emnist_train.ipynb or `python -m hcr_utils train emnist --out {path}`",
}
EXPORTED_BY = "notebooks/10_export_and_deploy.ipynb or `python -m hcr_utils export NAME.keras --format litert --out {path}`"
MODEL_SUFFIXES = (".keras", ".tflite", ".onnx")
ALLOWED = {"digits": str.isdigit, "letters": str.isalpha}  # the answers the pad and `predict --only` can restrict to
BATCH = 512  # images per call when probabilities() gets many: bounds the memory of one call


SHIPPED_MODELS_DIR = config.PROJECT_ROOT / "saved_models"


class ModelNotFoundError(FileNotFoundError):
    """A saved model (or its labels file) is missing; the message says what creates it."""


def labels_path(model_path: Path | str) -> Path:
    """``NAME.keras`` (or an export: ``NAME.tflite``, ``NAME.onnx``) → ``NAME.labels.json``."""
    path = Path(model_path)
    stem = path.name.removesuffix(path.suffix) if path.suffix in MODEL_SUFFIXES else path.name
    return path.with_name(stem + ".labels.json")


def labels_json(dataset: str, classes: tuple[str, ...] | list[str]) -> str:
    """The text of a labels file: the model's dataset and its class characters."""
    return json.dumps({"dataset": dataset, "classes": list(classes)}, indent=1)


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
    labels_path(path).write_text(labels_json(dataset, classes))
    return path


def _missing_message(path: Path, what: str) -> str:
    if path.suffix == ".tflite":
        hint = EXPORTED_BY.format(path=path)
    else:
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


def _to_tensor(values: np.ndarray, detail: dict) -> np.ndarray:
    """Float values as the tensor's type: quantised with its scale and zero point when it has them."""
    scale, zero_point = detail["quantization"]
    if not scale:
        return values.astype(detail["dtype"])
    limits = np.iinfo(detail["dtype"])
    return np.clip(np.round(values / scale) + zero_point, limits.min, limits.max).astype(detail["dtype"])


def _from_tensor(values: np.ndarray, detail: dict) -> np.ndarray:
    """A tensor's values as float32, de-quantised when it has a scale and zero point."""
    scale, zero_point = detail["quantization"]
    return (values.astype(np.float32) - zero_point) * scale if scale else values.astype(np.float32)


class LiteRTModel:
    """A ``.tflite`` character model run by the LiteRT interpreter: N×28×28×1 raw pixels in, probabilities out.

    The course's exports keep float32 inputs and outputs, also the int8 one (it
    quantises inside); a model with integer inputs or outputs is fed and read
    through its tensors' scale and zero point.
    """

    def __init__(self, path: Path | str) -> None:
        """Open and check ``path``; raises ValueError (one line) for a file that is not such a model."""
        try:
            with native_stderr_hidden():  # the interpreter announces its CPU delegate on stderr
                self.interpreter = Interpreter(model_path=str(path))
                self.interpreter.allocate_tensors()
        except ValueError as err:
            reason = str(err).replace(".The", ". The").splitlines()[0]
            raise ValueError(f"{path} is not a readable .tflite model ({reason})") from None
        inputs, outputs = self.interpreter.get_input_details(), self.interpreter.get_output_details()
        if len(inputs) != 1 or len(outputs) != 1 or list(inputs[0]["shape_signature"][1:]) != [28, 28, 1]:
            raise ValueError(f"{path} is not a character model: expected one N×28×28×1 input and one output")
        self._input, self._output = inputs[0], outputs[0]

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        """Class probabilities of an N×28×28×1 float32 batch of raw pixels (0-255)."""
        if self._input["shape"][0] != len(batch):
            self.interpreter.resize_tensor_input(self._input["index"], batch.shape)
            self.interpreter.allocate_tensors()
            self._input = self.interpreter.get_input_details()[0]
        self.interpreter.set_tensor(self._input["index"], _to_tensor(batch, self._input))
        self.interpreter.invoke()
        return _from_tensor(self.interpreter.get_tensor(self._output["index"]), self._output)


def _compiled(model: keras.Model) -> Callable[[np.ndarray], np.ndarray]:
    """``model`` called through a traced function: milliseconds per picture, where ``model.predict`` takes tens."""

    @tf.function(input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.float32)], reduce_retracing=True)
    def probabilities(batch: tf.Tensor) -> tf.Tensor:
        return model(batch, training=False)

    return lambda batch: probabilities(tf.constant(batch)).numpy()


@dataclass(frozen=True)
class Reading:
    """What the model read in one picture: its best guesses, the 28×28 image it saw, or why it would not guess."""

    guesses: list[tuple[str, float]]
    seen: np.ndarray
    refusal: str | None = None  # set when the picture is not one readable character; guesses are then empty


@dataclass
class Recognizer:
    """A trained model ready for single pictures: ``top_k`` answers in a few milliseconds.

    ``model`` is a Keras model or, for a ``.tflite`` file, a :class:`LiteRTModel`;
    both answer through the same methods.
    """

    model: keras.Model | LiteRTModel
    dataset: str
    classes: tuple[str, ...]

    def __post_init__(self) -> None:
        self._probabilities = self.model if isinstance(self.model, LiteRTModel) else _compiled(self.model)
        answer = self.probabilities(np.zeros((1, 28, 28), np.uint8))  # trace now, so the first real answer is fast
        if answer.shape != (1, len(self.classes)):
            raise ValueError(f"the model gives {answer.shape[-1]} probabilities for {len(self.classes)} classes")

    @classmethod
    def load(cls, path: Path | str) -> Recognizer:
        """Load ``NAME.keras`` (or its export ``NAME.tflite``) and ``NAME.labels.json``.

        Raises:
            ModelNotFoundError: naming the notebook or command that creates the file.
            ValueError: a ``.tflite`` file that is not a readable character model.
        """
        path = Path(path)
        writer = "hcr_utils.export" if path.suffix == ".tflite" else "hcr_utils.inference.save_model"
        for needed, what in ((path, "model"), (labels_path(path), "labels file")):
            if not needed.exists():
                raise ModelNotFoundError(_missing_message(path, what) if needed == path else
                                         f"{what} {needed} not found; it is written next to the model by {writer}")
        info = json.loads(labels_path(path).read_text())
        if path.suffix == ".tflite":
            model = LiteRTModel(path)
        else:
            model = keras.saving.load_model(path, custom_objects={"hcr>RandomStrokeWidth": RandomStrokeWidth})
        return cls(model, info["dataset"], tuple(info["classes"]))

    def allowed_mask(self, allowed: str | None) -> np.ndarray:
        """Which classes may be answered: all (None), only ``"digits"`` or only ``"letters"``.

        Raises:
            ValueError: an unknown choice, or one that leaves this model no class at all.
        """
        if allowed is None:
            return np.ones(len(self.classes), bool)
        if allowed not in ALLOWED:
            raise ValueError(f"allowed must be None, {' or '.join(map(repr, ALLOWED))}, not {allowed!r}")
        mask = np.array([ALLOWED[allowed](char) for char in self.classes])
        if not mask.any():
            raise ValueError(f"this {self.dataset} model has no {allowed}")
        return mask

    def probabilities(self, images: np.ndarray, allowed: str | None = None) -> np.ndarray:
        """Class probabilities of prepared 28×28 uint8 images (N×28×28), at most ``BATCH`` per model call.

        With ``allowed``, the other classes get probability 0 and the rest are
        rescaled to sum to 1: the model's belief, given that the answer is a digit (or a letter).
        """
        batch = np.asarray(images, dtype=np.float32).reshape(-1, 28, 28, 1)
        chunks = np.array_split(batch, max(1, -(-len(batch) // BATCH)))
        probabilities = np.concatenate([self._probabilities(chunk) for chunk in chunks])
        if allowed is None:
            return probabilities
        masked = probabilities * self.allowed_mask(allowed)
        return masked / np.maximum(masked.sum(axis=1, keepdims=True), 1e-12)

    def prepare(self, image: np.ndarray) -> np.ndarray:
        """The 28×28 image the model sees for ``image`` (this model's dataset conversion)."""
        return prepare(image, self.dataset)

    def _ranked(self, probs: np.ndarray, k: int) -> list[tuple[str, float]]:
        return [(self.classes[i], float(probs[i])) for i in np.argsort(-probs)[:k] if probs[i] > 0]

    def best(self, prepared: np.ndarray, k: int = 3, allowed: str | None = None) -> list[tuple[str, float]]:
        """The ``k`` likeliest characters for one prepared 28×28 image, best first (only ``allowed`` ones)."""
        return self._ranked(self.probabilities(prepared[None], allowed)[0], k)

    def top_k(self, image: np.ndarray, k: int = 3, allowed: str | None = None) -> list[tuple[str, float]]:
        """The ``k`` likeliest characters for a picture of any size, best first; ``allowed``: "digits" or "letters".

        Raises:
            BlankImageError: the picture holds no character.
        """
        return self.best(self.prepare(image), k, allowed)

    def read(self, image: np.ndarray, k: int = 3, allowed: str | None = None) -> Reading:
        """Like :meth:`top_k`, but refuses to guess when the picture is not one readable character.

        The rule (``hcr_utils.rejection``) looks at how the model spreads its
        belief and at the shape of the ink: a scribble, a coloured-in patch or
        two characters at once get a refusal with its reason instead of guesses.

        Raises:
            BlankImageError: the picture holds no character.
        """
        seen = self.prepare(image)
        probs = self.probabilities(seen[None], allowed)[0]
        refusal = unreadable(features(probs, image), self.dataset)
        return Reading([] if refusal else self._ranked(probs, k), seen, refusal)
