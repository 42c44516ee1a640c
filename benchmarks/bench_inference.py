"""Latency and canvas fidelity of ``Recognizer.top_k``; prints one JSON line per measurement.

    python benchmarks/bench_inference.py --model saved_models/emnist_cnn.keras \\
        --data-dir /work/shared/data/emnist-dev --n 2000 --repeats 1000

Canvas fidelity: real test images are redrawn the way the drawing pad draws
(the ink is thinned to its centre line at 5× scale, then stamped with the
pad's round brush on a 280×280 canvas) and read by ``top_k``; their accuracy
is compared with the model's accuracy on the original 28×28 images, and so is
how often the right character is among the three guesses the pad shows.
Latency: ``read`` (what the pad calls: ``top_k`` and the "I can't read this"
check) on those 280×280 drawings, preprocessing included. For EMNIST, also
the accuracy on redrawn test letters with the answers restricted to letters
(and digits to digits), against all 47 classes.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from hcr_utils import config
from hcr_utils.datasets import load
from hcr_utils.evaluation import top_k_accuracy
from hcr_utils.export import percentiles_ms
from hcr_utils.inference import ALLOWED, Recognizer
from hcr_utils.strokes import BRUSH_WIDTH, SIZE, redraw

LATENCY_TARGET_MS = 15.0
FIDELITY_TARGET_POINTS = 2.0


def fidelity(recognizer: Recognizer, images: np.ndarray, labels: np.ndarray, drawings: list[np.ndarray]) -> dict:
    """Accuracy on the original 28×28 images (model alone and through top_k) and on their canvas redraws.

    Also the top-3 accuracy of both: how often the pad's three bars include the right character.
    """
    classes = np.array(recognizer.classes)
    probabilities = recognizer.probabilities(images)
    original = probabilities.argmax(axis=1) == labels
    through_top_k = np.array([recognizer.top_k(x, k=1)[0][0] for x in images]) == classes[labels]
    canvas_guesses = [[char for char, _ in recognizer.top_k(d, k=3)] for d in drawings]
    canvas = np.array([guesses[0] for guesses in canvas_guesses]) == classes[labels]
    canvas_top3 = np.array([truth in guesses for truth, guesses in zip(classes[labels], canvas_guesses)])
    gap = 100 * (original.mean() - canvas.mean())
    return {
        "benchmark": "canvas_fidelity",
        "dataset": recognizer.dataset,
        "n": len(labels),
        "accuracy_original": round(float(original.mean()), 4),
        "accuracy_original_top_k": round(float(through_top_k.mean()), 4),
        "accuracy_canvas": round(float(canvas.mean()), 4),
        "top3_original": round(top_k_accuracy(probabilities, labels, k=3), 4),
        "top3_canvas": round(float(canvas_top3.mean()), 4),
        "gap_points": round(float(gap), 2),
        "target_points": FIDELITY_TARGET_POINTS,
        "met": bool(gap <= FIDELITY_TARGET_POINTS),
    }


def latency(recognizer: Recognizer, drawings: list[np.ndarray], repeats: int) -> dict:
    """p50/p95 milliseconds of one ``top_k`` call on a 280×280 drawing, preprocessing included."""
    p50, p95 = percentiles_ms(recognizer.read, drawings, repeats, warmup=20)
    return {
        "benchmark": "latency",
        "repeats": repeats,
        "image": f"{SIZE}x{SIZE}",
        "p50_ms": round(float(p50), 2),
        "p95_ms": round(float(p95), 2),
        "target_p95_ms": LATENCY_TARGET_MS,
        "met": bool(p95 <= LATENCY_TARGET_MS),
    }


def restricted(recognizer: Recognizer, labels: np.ndarray, drawings: list[np.ndarray]) -> dict:
    """Accuracy on redrawn test letters with answers restricted to letters (and digits to digits), against all classes."""
    classes = np.array(recognizer.classes)
    result = {"benchmark": "restricted_answers", "dataset": recognizer.dataset}
    for allowed in ("letters", "digits"):
        chosen = [i for i, label in enumerate(labels) if ALLOWED[allowed](classes[label])]
        for mode in (None, allowed):
            right = [recognizer.top_k(drawings[i], k=1, allowed=mode)[0][0] == classes[labels[i]] for i in chosen]
            result[f"{allowed}_accuracy_{'restricted' if mode else 'all_classes'}"] = round(float(np.mean(right)), 4)
        result[f"{allowed}_n"] = len(chosen)
    return result


def main() -> None:
    """Parse the arguments, redraw N test images and print both measurements."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=config.models_dir() / "emnist_cnn.keras")
    parser.add_argument("--data-dir", type=Path, help="official IDX files of the model's dataset")
    parser.add_argument("--n", type=int, default=2000, help="test images to redraw")
    parser.add_argument("--repeats", type=int, default=1000, help="timed top_k calls")
    parser.add_argument("--brush-width", type=int, default=BRUSH_WIDTH, help="pen diameter on the 280×280 canvas")
    args = parser.parse_args()

    recognizer = Recognizer.load(args.model)
    data = load(recognizer.dataset, args.data_dir)
    pick = np.random.default_rng(config.SEED).permutation(len(data.y_test))[: args.n]
    images, labels = data.x_test[pick], data.y_test[pick]
    start = time.perf_counter()
    drawings = [redraw(image, args.brush_width) for image in images]
    print(
        json.dumps(
            {
                "benchmark": "redraw",
                "n": len(drawings),
                "brush_width": args.brush_width,
                "seconds": round(time.perf_counter() - start, 1),
            }
        ),
        flush=True,
    )
    print(json.dumps(latency(recognizer, drawings, args.repeats)), flush=True)
    print(json.dumps(fidelity(recognizer, images, labels, drawings)), flush=True)
    if recognizer.dataset == "emnist":
        print(json.dumps(restricted(recognizer, labels, drawings)), flush=True)


if __name__ == "__main__":
    main()
