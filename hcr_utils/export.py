"""Export a trained character model for phones, the edge and servers.

LiteRT (formerly TensorFlow Lite) ``.tflite`` files, in three precisions:

* ``float32``: the Keras model's own numbers, in a file the LiteRT runtime reads;
* ``dynamic``: dynamic-range quantisation: weights stored as int8, activations float;
* ``int8``: full-integer quantisation: weights and activations int8, each tensor's
  range calibrated on a few hundred training images (:func:`calibration_images`).
  Its input and output stay float32 (raw pixels 0-255 in, probabilities out): the
  file quantises the pixels itself, so every ``.tflite`` is used the same way.

Also a TensorFlow SavedModel (for TF Serving and TensorFlow.js) and ONNX. Each export
gets the labels file beside it (``NAME.tflite`` → ``NAME.labels.json``), so
``Recognizer.load`` reads a ``.tflite`` as it reads the ``.keras`` file. Keras 3 exports
through ``model.export``; the old ``tf.lite.TFLiteConverter.from_keras_model`` does
not work with Keras 3 models. Every write is atomic: the file (or folder) is written
under a temporary name in the same folder and renamed when complete.

:func:`export_for_web` writes what the static web page (``web/``) reads: a
``.tflite`` file for one picture a call (LiteRT.js compiles only fixed shapes),
its labels, and the "I can't read this" rule's settings (``NAME.reading.json``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import shutil
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from . import config
from .datasets import Dataset
from .errors import HcrError
from .inference import Recognizer, labels_json, labels_path
from .preprocessing import INK_THRESHOLD, MIN_EXTENT
from .rejection import MAX_ASPECT, MAX_SOLID, MIN_TOP3, SOLID_DEPTH, Features, unreadable
from .runtime import native_stderr_hidden

QUANTIZATIONS = ("float32", "dynamic", "int8")
CALIBRATION_IMAGES = 300
WARM_UP_CALLS = 20
WEB_INPUT = tf.TensorSpec((1, 28, 28, 1), tf.float32)  # LiteRT.js refuses a dynamic batch dimension


class ExportError(HcrError, OSError):
    """The export cannot be written where it was asked to go."""


def calibration_images(data: Dataset, count: int = CALIBRATION_IMAGES) -> np.ndarray:
    """``count`` training images drawn at random (fixed seed): int8 calibration measures each tensor's range on them."""
    pick = np.random.default_rng(config.SEED).choice(len(data.x_train), min(count, len(data.x_train)), replace=False)
    return data.x_train[np.sort(pick)]


def _converter_options(quantization: str, calibration: np.ndarray | None) -> dict:
    """The LiteRT converter's settings for one of ``QUANTIZATIONS``."""
    if quantization not in QUANTIZATIONS:
        raise ValueError(f"unknown quantization {quantization!r}; choose one of {QUANTIZATIONS}")
    if quantization == "float32":
        return {}
    if quantization == "dynamic":
        return {"optimizations": [tf.lite.Optimize.DEFAULT]}
    if calibration is None or not len(calibration):
        raise ValueError("int8 quantisation needs calibration images: a few hundred training images")

    def representative_dataset() -> Iterator[list[np.ndarray]]:
        for image in calibration:
            yield [np.asarray(image, np.float32).reshape(1, 28, 28, 1)]

    return {
        "optimizations": [tf.lite.Optimize.DEFAULT],
        "representative_dataset": representative_dataset,
        "target_spec": {"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]},
    }


def _writable_folder(folder: Path) -> None:
    """Create ``folder`` if needed; raise ExportError when nothing can be written there."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        reason = "a file is in the way" if isinstance(err, FileExistsError) else err.strerror or err
        raise ExportError(f"cannot write to {folder}: {reason}") from None
    if not os.access(folder, os.W_OK):
        raise ExportError(f"cannot write to {folder}: permission denied")


def _remove(path: Path) -> None:
    """Delete a file or folder if it exists."""
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


@contextlib.contextmanager
def _atomic(final: Path) -> Iterator[Path]:
    """A temporary name beside ``final`` to write a file or folder to; renamed to ``final`` only if the block succeeds."""
    _writable_folder(final.parent)
    temporary = final.with_name(f".{final.stem}.{uuid.uuid4().hex[:8]}.part{final.suffix}")
    try:
        yield temporary
        if temporary.is_dir() and final.is_dir():  # a folder cannot be renamed onto a full one: move the old one aside
            old = final.with_name(f".{final.name}.{uuid.uuid4().hex[:8]}.old")
            os.replace(final, old)
            os.replace(temporary, final)
            _remove(old)
        else:
            os.replace(temporary, final)
    finally:
        _remove(temporary)


def _export(recognizer: Recognizer, out: Path | str, export_format: str, **options: object) -> Path:
    """Write ``recognizer``'s Keras model with ``model.export`` atomically to ``out``, and its labels file beside it."""
    if not isinstance(recognizer.model, keras.Model):
        raise ValueError("only a Keras model (a .keras file) can be exported")
    out = Path(out)
    with _atomic(out) as temporary, native_stderr_hidden():  # the converter logs every step on stderr
        recognizer.model.export(str(temporary), format=export_format, verbose=False, **options)
    with _atomic(labels_path(out)) as temporary:
        temporary.write_text(
            labels_json(recognizer.dataset, recognizer.classes, training_data=recognizer.training_data)
        )
    return out


def export_tflite(
    recognizer: Recognizer, out: Path | str, quantization: str = "float32", calibration: np.ndarray | None = None
) -> Path:
    """Write a LiteRT ``.tflite`` file of ``recognizer``'s model in one of ``QUANTIZATIONS``.

    ``calibration`` (N×28×28 training images, see :func:`calibration_images`) is needed for ``int8``.
    """
    if Path(out).suffix != ".tflite":
        raise ValueError(f"{out}: LiteRT models are written as .tflite files")
    return _export(recognizer, out, "litert", **_converter_options(quantization, calibration))


def reading_settings(dataset: str) -> dict:
    """How a ``dataset`` model's pictures are read, for the web page: the ink threshold and the refusal rule.

    The numbers are :mod:`hcr_utils.preprocessing`'s and :mod:`hcr_utils.rejection`'s
    own; each reason is the sentence :func:`~hcr_utils.rejection.unreadable` gives.
    """
    if dataset not in MAX_SOLID:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of {tuple(MAX_SOLID)}")
    readable = Features(confidence=1.0, margin=1.0, top3=1.0, entropy=0.0, solid=0.0, aspect=1.0)
    reason = {
        name: unreadable(dataclasses.replace(readable, **{name: value}), dataset)
        for name, value in (("solid", 1.0), ("aspect", math.inf), ("top3", 0.0))
    }
    return {
        "dataset": dataset,
        "ink_threshold": INK_THRESHOLD,
        "min_extent": MIN_EXTENT,
        "refusal": {
            "max_solid": MAX_SOLID[dataset],
            "max_aspect": MAX_ASPECT[dataset],
            "min_top3": MIN_TOP3[dataset],
            "solid_depth": SOLID_DEPTH,
            "reasons": reason,
        },
    }


def reading_path(model_path: Path | str) -> Path:
    """``NAME.tflite`` → ``NAME.reading.json``, the reading settings beside a web export."""
    return Path(model_path).with_suffix(".reading.json")


def export_for_web(
    recognizer: Recognizer,
    folder: Path | str,
    quantization: str = "int8",
    calibration: np.ndarray | None = None,
    name: str | None = None,
) -> Path:
    """Write ``NAME.tflite`` (one 1×28×28×1 picture a call), ``NAME.labels.json`` and ``NAME.reading.json`` to ``folder``.

    ``name`` defaults to ``emnist_cnn`` or ``mnist_cnn`` (the recognizer's dataset);
    ``calibration`` (training images) is needed for ``int8``. Returns the ``.tflite`` path.
    """
    out = Path(folder) / f"{name or recognizer.dataset + '_cnn'}.tflite"
    options = _converter_options(quantization, calibration)
    _export(recognizer, out, "litert", input_signature=[WEB_INPUT], **options)
    with _atomic(reading_path(out)) as temporary:
        temporary.write_text(json.dumps(reading_settings(recognizer.dataset), indent=1))
    return out


def export_saved_model(recognizer: Recognizer, out: Path | str) -> Path:
    """Write a TensorFlow SavedModel folder (one ``serve`` endpoint: raw pixels in, probabilities out)."""
    return _export(recognizer, out, "tf_saved_model")


def export_onnx(recognizer: Recognizer, out: Path | str) -> Path:
    """Write an ``.onnx`` file (converted by ``tf2onnx``; run it with ``onnxruntime``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # Keras' tf2onnx patch asks numpy for np.object
        return _export(recognizer, out, "onnx")


def size_bytes(path: Path | str) -> int:
    """Bytes on disk of a file, or of all the files in a folder (a SavedModel)."""
    path = Path(path)
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.is_dir() else path.stat().st_size


def percentiles_ms(
    call: Callable[[Any], object], inputs: Sequence[Any], repeats: int, warmup: int = WARM_UP_CALLS
) -> tuple[float, float]:
    """Median and 95th percentile milliseconds of ``call`` on ``inputs`` in turn, after ``warmup`` untimed calls."""
    for value in inputs[:warmup]:
        call(value)
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        call(inputs[i % len(inputs)])
        times.append(1000 * (time.perf_counter() - start))
    p50, p95 = np.percentile(times, [50, 95])
    return float(p50), float(p95)


def latency_ms(predict_one: Callable[[np.ndarray], object], images: np.ndarray, repeats: int) -> tuple[float, float]:
    """Median and 95th percentile milliseconds of ``predict_one`` on a single 1×28×28×1 float32 image.

    The calls cycle through ``images`` (N×28×28), after a few untimed ones that warm caches up.
    """
    return percentiles_ms(predict_one, np.asarray(images, np.float32).reshape(-1, 1, 28, 28, 1), repeats)
