"""The README's figures, made from the shipped models, into docs/figures/.

    python scripts/make_figures.py --emnist-dir ../shared/data/emnist-dev

- ``emnist_confusion.png``: the shipped EMNIST model's confusion matrix on the
  test files of ``--emnist-dir`` (notebook 07's figure);
- ``o_vs_0_gradcam.png``: Grad-CAM of the evidence for 'O' and '0' on a scanned
  and a drawn O (notebook 09's figure; the scan comes from the shipped sample);
- ``drawing_pad.png``: the drawing pad in JupyterLab, as the browser test
  (tests/test_browser.py) last saved it in outputs/, if it is there.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

from hcr_utils import config, plots  # noqa: E402
from hcr_utils.datasets import load_emnist  # noqa: E402
from hcr_utils.evaluation import evaluate  # noqa: E402
from hcr_utils.explain import grad_cam  # noqa: E402
from hcr_utils.inference import SHIPPED_MODELS_DIR, Recognizer  # noqa: E402
from hcr_utils.widget import render_strokes  # noqa: E402

FIGURES = config.PROJECT_ROOT / "docs" / "figures"


def confusion(recognizer: Recognizer, emnist_dir: Path) -> None:
    data = load_emnist("balanced", emnist_dir)
    evaluation = evaluate(recognizer.model, data)
    figure = plots.confusion_matrix(evaluation, title=f"Shipped EMNIST model, {len(data.y_test):,} test images")
    figure.savefig(FIGURES / "emnist_confusion.png", dpi=80)


def o_versus_zero(recognizer: Recognizer) -> None:
    sample = load_emnist("balanced", config.SAMPLE_DIR / "emnist")
    letter, digit = recognizer.classes.index("O"), recognizer.classes.index("0")
    scans = sample.x_test[sample.y_test == letter]
    scanned = scans[recognizer.probabilities(scans)[:, letter].argmax()]
    ring = [(140 + 90 * np.sin(a), 140 - 105 * np.cos(a)) for a in np.linspace(0, 2 * np.pi, 40)]
    drawn = recognizer.prepare(render_strokes([ring]))
    images, maps, captions = [], [], []
    for name, image in (("scanned O", scanned), ("drawn O", drawn)):
        probabilities = recognizer.probabilities(image[None])[0]
        for char, index in (("O", letter), ("0", digit)):
            images.append(image)
            maps.append(grad_cam(recognizer.model, image, index))
            captions.append(f"{name}: evidence for '{char}'\n(p = {probabilities[index]:.2f})")
    figure = plots.heatmaps(
        images, maps, captions, title="Shipped EMNIST model: where the evidence for 'O' and '0' lies"
    )
    figure.savefig(FIGURES / "o_vs_0_gradcam.png", dpi=90)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emnist-dir", type=Path, required=True, help="folder with the emnist-balanced-* files")
    args = parser.parse_args()
    FIGURES.mkdir(parents=True, exist_ok=True)
    recognizer = Recognizer.load(SHIPPED_MODELS_DIR / "emnist_cnn.keras")
    confusion(recognizer, args.emnist_dir)
    o_versus_zero(recognizer)
    screenshot = config.outputs_dir() / "widget_e2e_jupyterlab.png"
    if screenshot.exists():
        shutil.copyfile(screenshot, FIGURES / "drawing_pad.png")
    print("figures written to", FIGURES)


if __name__ == "__main__":
    main()
