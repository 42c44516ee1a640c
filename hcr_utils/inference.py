"""Load a trained model with its labels and read characters from pictures, fast.

A model is saved as ``NAME.keras`` plus ``NAME.labels.json`` (the dataset it
was trained on, which decides the preprocessing, and its class characters).
Its LiteRT export ``NAME.tflite`` (see :mod:`hcr_utils.export`) has the same
labels file beside it and loads the same way, run by ``ai-edge-litert``.
Saving, finding and loading the files is :mod:`hcr_utils.saved`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from . import config
from .errors import HcrError
from .preprocessing import prepare
from .rejection import features, unreadable
from .runtime import native_stderr_hidden
from .saved import (  # noqa: F401  (the saved-model names notebooks import from here)
    ModelFileError,
    ModelNotFoundError,
    compiled_predict,
    describe_source,
    find_model,
    labels_json,
    labels_path,
    load_keras,
    read_labels,
    save_model,
)

ALLOWED = {"digits": str.isdigit, "letters": str.isalpha}  # the answers the pad and `predict --only` can restrict to
BATCH = 512  # images per call when probabilities() gets many: bounds the memory of one call
SHIPPED_MODELS_DIR = config.SHIPPED_MODELS_DIR


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
        """Open and check ``path``; raises ModelFileError (one line) for a file that is not such a model."""
        try:  # only .tflite files need it: the [export] extra's runtime
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            raise HcrError(
                f"{path}: running .tflite models needs ai-edge-litert: pip install 'hcr-utils[export]'"
            ) from None
        try:
            with native_stderr_hidden():  # the interpreter announces its CPU delegate on stderr
                self.interpreter = Interpreter(model_path=str(path))
                self.interpreter.allocate_tensors()
        except ValueError as err:
            reason = str(err).replace(".The", ". The").splitlines()[0]
            raise ModelFileError(f"{path} is not a readable .tflite model ({reason})") from None
        inputs, outputs = self.interpreter.get_input_details(), self.interpreter.get_output_details()
        if len(inputs) != 1 or len(outputs) != 1 or list(inputs[0]["shape_signature"][1:]) != [28, 28, 1]:
            raise ModelFileError(f"{path} is not a character model: expected one N×28×28×1 input and one output")
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
    training_data: str | None = None  # what the model was trained on, as its labels file says

    def __post_init__(self) -> None:
        self._probabilities = (
            self.model if isinstance(self.model, LiteRTModel) else compiled_predict(self.model, (28, 28, 1))
        )
        answer = self.probabilities(np.zeros((1, 28, 28), np.uint8))  # trace now, so the first real answer is fast
        if answer.shape != (1, len(self.classes)):
            raise ModelFileError(f"the model gives {answer.shape[-1]} probabilities for {len(self.classes)} classes")

    @classmethod
    def load(cls, path: Path | str) -> Recognizer:
        """Load ``NAME.keras`` (or its export ``NAME.tflite``) and ``NAME.labels.json``.

        Raises:
            ModelNotFoundError: naming the notebook or command that creates the file.
            ModelFileError: a damaged file, a line reader, or a ``.tflite`` file that is not a character model.
        """
        path = Path(path)
        if path.suffix == ".tflite":
            info = read_labels(path)
            return cls(LiteRTModel(path), info["dataset"], info["classes"], info.get("training_data"))
        model, info = load_keras(path, "characters")
        return cls(model, info["dataset"], info["classes"], info.get("training_data"))

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
