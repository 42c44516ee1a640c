"""Saved models of both kinds, in one format: ``NAME.keras`` and its labels file ``NAME.labels.json``.

The labels file says what the model is: its ``kind`` (``"characters"``: one
28×28 character, or ``"words"``: a line), the ``dataset`` whose conversion its
pictures need, its class characters, and for a line reader the geometry of its
frames. This module saves, finds and loads both kinds; :mod:`hcr_utils.inference`
and :mod:`hcr_utils.words` turn the loaded model into a reader.

A shipped model loads with plain Keras too: ``import hcr_utils.models`` registers
the course's own layers, then ``keras.saving.load_model(path)`` reads any of them.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import keras
import numpy as np

from . import config
from . import models as _layers  # noqa: F401  (registers the course's custom layers with Keras)
from .errors import HcrError

KINDS = ("characters", "words")
DATASETS = ("emnist", "mnist")
MODEL_SUFFIXES = (".keras", ".tflite", ".onnx")
CREATED_BY = {  # what creates a missing model, by the start of its file name (the first that matches)
    "emnist_words": "notebooks/14_train_the_line_reader.ipynb or `hcr train words --out {path}`",
    "mnist": "notebooks/04_mnist_improve_and_evaluate.ipynb or `hcr train mnist --out {path}`",
    "emnist": "notebooks/06_emnist_train.ipynb or `hcr train emnist --out {path}`",
}
EXPORTED_BY = "notebooks/10_export_and_deploy.ipynb or `hcr export NAME.keras --format litert --out {path}`"


class ModelNotFoundError(HcrError, FileNotFoundError):
    """A saved model (or its labels file) is missing; the message says what creates it."""


class ModelFileError(HcrError, ValueError):
    """A model file that cannot be read or written, or a model of the wrong kind for what was asked."""


def labels_path(model_path: Path | str) -> Path:
    """``NAME.keras`` (or an export: ``NAME.tflite``, ``NAME.onnx``) → ``NAME.labels.json``."""
    path = Path(model_path)
    stem = path.name.removesuffix(path.suffix) if path.suffix in MODEL_SUFFIXES else path.name
    return path.with_name(stem + ".labels.json")


def labels_json(
    dataset: str, classes: Sequence[str], kind: str = "characters", training_data: str | None = None, **geometry: int
) -> str:
    """The text of a labels file: the model's kind, its dataset, its class characters, what it was trained on
    (when known) and a line reader's geometry."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; choose one of {KINDS}")
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of {DATASETS}")
    trained_on = {"training_data": training_data} if training_data else {}
    return json.dumps({"kind": kind, "dataset": dataset, "classes": list(classes), **trained_on, **geometry}, indent=1)


def keep_earlier(path: Path | str) -> Path | None:
    """Rename a model already at ``path`` (and its labels file) to ``NAME.1.keras``, ``NAME.2.keras``... (the
    first free number), so that saving a new one there destroys nothing.

    Returns the earlier model's new path, or None when there was none.
    """
    path = Path(path)
    if not path.exists():
        return None
    number = 1
    while (kept := path.with_name(f"{path.stem}.{number}{path.suffix}")).exists() or labels_path(kept).exists():
        number += 1
    if labels_path(path).exists():
        labels_path(path).rename(labels_path(kept))
    path.rename(kept)
    return kept


def save_model(
    model: keras.Model,
    path: Path | str,
    dataset: str,
    classes: Sequence[str],
    kind: str = "characters",
    **geometry: int,
) -> Path:
    """Save ``model`` for inference as a ``.keras`` file, with its labels file beside it.

    The file holds the architecture and the weights, not the optimizer's
    state: that is only needed to resume training and would triple the size.
    A model already at ``path`` is kept under a numbered name (:func:`keep_earlier`),
    and the new one appears there only once it is written in full.

    Raises:
        ModelFileError: the path is not a ``.keras`` file, or cannot be written.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ModelFileError(f"{path}: Keras 3 models are saved as .keras files")
    labels = labels_json(dataset, classes, kind, **geometry)
    partial = path.with_name(f".{path.stem}.part.keras")  # hidden, and no model's name: never read as a model
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        keras.Model(model.inputs, model.outputs, name=model.name).save(partial)  # same layers, no optimizer
        labels_path(partial).write_text(labels)
        keep_earlier(path)
        labels_path(partial).replace(labels_path(path))
        partial.replace(path)
    except OSError as err:
        raise ModelFileError(f"cannot write {path}: {err.strerror or err}") from None
    finally:
        partial.unlink(missing_ok=True)
        labels_path(partial).unlink(missing_ok=True)
    return path


def missing_message(path: Path, what: str = "model", kind: str | None = None) -> str:
    """``what`` at ``path`` is missing: the sentence that names the notebook or command that creates it.

    The hint follows the file's name, or ``kind`` when the caller knows it (a line reader, whatever its name).
    """
    if path.suffix == ".tflite":
        hint = EXPORTED_BY.format(path=path)
    elif kind == "words":
        hint = CREATED_BY["emnist_words"].format(path=path)
    else:
        hint = next((how.format(path=path) for name, how in CREATED_BY.items() if path.name.startswith(name)), None)
        hint = hint or f"`hcr train mnist|emnist|words --out {path}`"
    return f"{what} {path} not found: create it by running {hint}"


def read_labels(path: Path | str, kind: str | None = None) -> dict:
    """The labels file of the model at ``path`` (``"kind"`` filled in as ``"characters"`` for older files).

    ``kind``, the kind of model expected, only chooses the hint of a missing file's message.

    Raises:
        ModelNotFoundError: the model or its labels file is missing.
        ModelFileError: the labels file is damaged.
    """
    path = Path(path)
    if not path.exists():
        raise ModelNotFoundError(missing_message(path, kind=kind))
    labels = labels_path(path)
    if not labels.exists():
        raise ModelNotFoundError(
            f"labels file {labels} not found; it is written next to the model by "
            "hcr_utils.saved.save_model (hcr_utils.export for an export)"
        )
    try:
        info = json.loads(labels.read_text())
        return {"kind": "characters", **info, "classes": tuple(info["classes"]), "dataset": info["dataset"]}
    except (ValueError, KeyError, TypeError) as err:
        raise ModelFileError(f"{labels} is not a labels file ({type(err).__name__}: {err})") from None


def find_model(name: str, models_dir: Path | str | None = None) -> Path:
    """The model called ``name`` (``emnist_cnn`` or ``emnist_cnn.keras``): yours if you trained one, else the shipped one.

    Yours is ``models_dir / name`` (default: ``config.models_dir()``); the shipped
    ones are in ``config.SHIPPED_MODELS_DIR``.

    Raises:
        ModelNotFoundError: neither exists; the message names what creates it.
    """
    name = name if Path(name).suffix in MODEL_SUFFIXES else f"{name}.keras"
    folder = Path(models_dir) if models_dir is not None else config.models_dir()
    for path in dict.fromkeys((folder / name, config.SHIPPED_MODELS_DIR / name)):
        if path.exists() and labels_path(path).exists():
            return path
    raise ModelNotFoundError(missing_message(folder / name))


def resolve(model: Path | str) -> Path:
    """A model given on the command line: a path to a file, or a name that :func:`find_model` looks up."""
    path = Path(model)
    return path if path.exists() or len(path.parts) > 1 else find_model(str(model))


def describe_source(path: Path | str) -> str:
    """Whose model ``path`` is, in words: the one shipped with the course, or one you trained."""
    path = Path(path).resolve()
    if path.parent == config.SHIPPED_MODELS_DIR.resolve():
        return f"the model shipped with the course ({path.name} in saved_models/)"
    return f"your model ({path})"


def load_keras(path: Path | str, kind: str) -> tuple[keras.Model, dict]:
    """The Keras model at ``path`` and its labels file, checked to be of ``kind``.

    Raises:
        ModelNotFoundError: a file is missing.
        ModelFileError: a damaged file, or a model of another kind.
    """
    info = read_labels(path, kind)
    if info["kind"] != kind:
        reader = "WordReader (hcr_utils.words)" if info["kind"] == "words" else "Recognizer (hcr_utils.inference)"
        raise ModelFileError(f"{path} is a {info['kind']} model, not a {kind} model: load it with {reader}")
    try:
        return keras.saving.load_model(path), info
    except (ValueError, OSError, zipfile.BadZipFile) as err:
        raise ModelFileError(f"{path} is not a readable .keras model ({type(err).__name__}: {err})") from None


def compiled_predict(
    model: keras.Model, input_shape: Sequence[int | None], softmax: bool = False
) -> Callable[[np.ndarray], np.ndarray]:
    """``model`` called through a traced function (any batch size): milliseconds a call, where ``predict`` takes tens.

    ``input_shape`` is one input's shape (``None`` for a free width); ``softmax``
    turns logits (a line reader's) into probabilities.
    """
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec([None, *input_shape], tf.float32)], reduce_retracing=True)
    def predict(batch: tf.Tensor) -> tf.Tensor:
        outputs = model(batch, training=False)
        return tf.nn.softmax(outputs, axis=-1) if softmax else outputs

    return lambda batch: predict(tf.constant(batch)).numpy()
