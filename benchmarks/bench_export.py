"""Size, accuracy, agreement and latency of a model's exports for phones and the edge; prints a table and the targets.

    python benchmarks/bench_export.py --model saved_models/emnist_cnn.keras \\
        --data-dir /work/shared/data/emnist-dev --n 2000

Exports the Keras model as float32, dynamic-range and int8 ``.tflite`` files (int8
calibrated on training images of DIR) and as ONNX, into a temporary folder. Each is
scored on the first N test images of DIR: accuracy, and top-1 agreement with the
Keras model. Latency: one image per call, median (p50) and 95th percentile (p95):
Keras through a traced ``tf.function`` (as the drawing pad calls it; an eager
``model(x)`` call is shown too), LiteRT through ``set_tensor``/``invoke``/``get_tensor``,
ONNX through ``onnxruntime``.
"""

from __future__ import annotations

import argparse
import datetime
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnxruntime  # noqa: E402
import tensorflow as tf  # noqa: E402

from hcr_utils.datasets import load  # first: importing hcr_utils starts TensorFlow without its log lines
from hcr_utils.export import calibration_images, export_onnx, export_tflite, latency_ms, size_bytes
from hcr_utils.inference import Recognizer

SIZE_RATIO_TARGET = 1 / 3  # int8 file at most this share of the float32 file
ACCURACY_TARGET_POINTS = 0.5  # int8 accuracy within this many points of Keras


def _onnx_runner(path: Path) -> Callable[[np.ndarray], np.ndarray]:
    """The exported ONNX model as a function of an N×28×28×1 float32 batch."""
    session = onnxruntime.InferenceSession(str(path))
    name = session.get_inputs()[0].name
    return lambda batch: session.run(None, {name: batch})[0]


def main() -> None:
    """Export, measure each format, print the table and whether the targets hold."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="the .keras model (labels file beside it)")
    parser.add_argument("--data-dir", type=Path, help="official IDX files of the model's dataset")
    parser.add_argument("--n", type=int, default=2000, help="test images scored")
    parser.add_argument("--repeats", type=int, default=1000, help="timed single-image calls per format")
    args = parser.parse_args()

    keras_model = Recognizer.load(args.model)
    data = load(keras_model.dataset, args.data_dir)
    images, labels = data.x_test[: args.n], data.y_test[: args.n]
    batch = images[..., None].astype(np.float32)
    traced = tf.function(lambda x: keras_model.model([x], training=False))  # [x]: the model's one named input
    runners: dict[str, tuple[Path, Callable[[np.ndarray], np.ndarray]]] = {
        "keras (traced call)": (args.model, lambda x: traced(x).numpy()),
        "keras (eager model(x))": (args.model, lambda x: keras_model.model([x], training=False).numpy()),
    }
    with tempfile.TemporaryDirectory() as folder:
        calibration = calibration_images(data)
        for quantization in ("float32", "dynamic", "int8"):
            path = export_tflite(keras_model, Path(folder) / f"model_{quantization}.tflite", quantization, calibration)
            runners[f"litert {quantization}"] = (path, Recognizer.load(path).model)
        onnx_path = export_onnx(keras_model, Path(folder) / "model.onnx")
        runners["onnx (onnxruntime)"] = (onnx_path, _onnx_runner(onnx_path))

        reference = keras_model.probabilities(images).argmax(axis=1)
        print(
            f"{args.model} on the first {len(labels)} test images of {args.data_dir}, "
            f"{datetime.date.today().isoformat()}"
        )
        print(f"{'format':<24} {'size (MB)':>9} {'accuracy':>9} {'agreement':>10} {'p50 (ms)':>9} {'p95 (ms)':>9}")
        rows = {}
        for name, (path, run) in runners.items():
            predictions = np.concatenate([run(batch[i : i + 500]) for i in range(0, len(batch), 500)]).argmax(axis=1)
            p50, p95 = latency_ms(run, images, args.repeats)
            rows[name] = {
                "size": size_bytes(path),
                "accuracy": float(np.mean(predictions == labels)),
                "agreement": float(np.mean(predictions == reference)),
                "p50": p50,
                "p95": p95,
            }
            row = rows[name]
            print(
                f"{name:<24} {row['size'] / 1e6:>9.2f} {row['accuracy']:>9.2%} {row['agreement']:>10.2%} "
                f"{p50:>9.3f} {p95:>9.3f}"
            )

    keras_row, float_row, int8_row = rows["keras (traced call)"], rows["litert float32"], rows["litert int8"]
    ratio = int8_row["size"] / float_row["size"]
    drop = 100 * (keras_row["accuracy"] - int8_row["accuracy"])
    targets = [
        (f"int8 file <= 1/3 of float32: {ratio:.3f} of it", ratio <= SIZE_RATIO_TARGET),
        (
            f"int8 accuracy within {ACCURACY_TARGET_POINTS} points of Keras: {-drop:+.2f} points",
            abs(drop) <= ACCURACY_TARGET_POINTS,
        ),
        (
            f"int8 faster per image than Keras: p50 {int8_row['p50']:.3f} vs {keras_row['p50']:.3f} ms",
            int8_row["p50"] < keras_row["p50"],
        ),
    ]
    for text, met in targets:
        print(f"target: {text}: {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
