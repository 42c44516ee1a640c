"""What the EMNIST model reads in look-alike pairs, and what a drawing pad cannot give it.

    python benchmarks/probe_canvas_cues.py --data-dir ../shared/data/emnist-dev --n 100

For each class of the look-alike pairs (O/0, I/1, L, S/5) prints one JSON line
per condition with that class's accuracy on its first N test images: the
originals, the originals with an extra Gaussian blur, and the originals
redrawn as pad strokes (``bench_inference.redraw``) at several brush widths.
A last line gives each class's mean stroke width and edge sharpness on the
originals, the cues a uniform round brush cannot reproduce.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from scipy import ndimage

from hcr_utils import config
from hcr_utils.datasets import load
from hcr_utils.inference import Recognizer
from hcr_utils.strokes import redraw, thin

CLASSES = ("O", "0", "I", "1", "L", "S", "5")
BRUSH_WIDTHS = (24, 32, 40, 48)
BLUR_SIGMA = 0.7  # pixels at 28×28


def class_accuracy(recognizer: Recognizer, images: np.ndarray, label: int) -> float:
    """Share of prepared 28×28 ``images`` read as class ``label``."""
    return round(float(np.mean(recognizer.probabilities(images).argmax(axis=1) == label)), 3)


def stroke_cues(images: np.ndarray) -> dict[str, float]:
    """Mean stroke width (ink area / centre-line length, pixels) and edge sharpness (mean gradient on ink)."""
    widths, sharpness = [], []
    for image in images.astype(np.float32) / 255:
        ink = image > 0.5
        widths.append(ink.sum() / max(thin(ink).sum(), 1))
        grad_y, grad_x = np.gradient(image)
        sharpness.append(np.hypot(grad_x, grad_y)[image > 0.1].mean())
    return {"stroke_width_px": round(float(np.mean(widths)), 2), "edge_sharpness": round(float(np.mean(sharpness)), 3)}


def main() -> None:
    """Print the accuracy of each look-alike class under each condition, then the stroke cues."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=config.models_dir() / "emnist_cnn.keras")
    parser.add_argument("--data-dir", type=Path, help="official EMNIST Balanced IDX files")
    parser.add_argument("--n", type=int, default=100, help="test images per class")
    args = parser.parse_args()

    recognizer = Recognizer.load(args.model)
    data = load("emnist", args.data_dir)
    picked = {char: data.x_test[data.y_test == recognizer.classes.index(char)][: args.n] for char in CLASSES}
    conditions = {
        "original": lambda image: image,
        f"original, blur sigma {BLUR_SIGMA}": lambda image: ndimage.gaussian_filter(
            image.astype(np.float32), BLUR_SIGMA
        ),
        **{
            f"redrawn, brush {width} px": (lambda image, w=width: recognizer.prepare(redraw(image, w)))
            for width in BRUSH_WIDTHS
        },
    }
    for name, convert in conditions.items():
        accuracy = {
            char: class_accuracy(
                recognizer, np.array([convert(image) for image in images]), recognizer.classes.index(char)
            )
            for char, images in picked.items()
        }
        print(json.dumps({"condition": name, "n_per_class": args.n, "accuracy": accuracy}), flush=True)
    print(json.dumps({"cues_of_originals": {char: stroke_cues(images) for char, images in picked.items()}}))


if __name__ == "__main__":
    main()
