"""Build data/sample/ (shipped with the project) from the development data.

A stratified, seeded subset of real images, written in the official file
names, headers and orientation so the normal loaders read it unchanged.

    python benchmarks/make_sample.py ../shared/data
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np

from hcr_utils.config import SAMPLE_DIR, SEED
from hcr_utils.datasets import emnist_files, mnist_files
from hcr_utils.idx import read_images_and_labels, write_idx


def stratified(labels: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``per_class`` random examples of every class, in file order."""
    picks = [rng.choice(np.flatnonzero(labels == c), per_class, replace=False) for c in np.unique(labels)]
    return np.sort(np.concatenate(picks))


def copy_subset(src: Path, dst: Path, files: dict[str, str], per_class: dict[str, int]) -> None:
    """Write a stratified subset of the train and test files of ``src`` into ``dst``."""
    rng = np.random.default_rng(SEED)
    dst.mkdir(parents=True, exist_ok=True)
    for part in ("train", "test"):
        images, labels = read_images_and_labels(src / files[f"{part}_images"], src / files[f"{part}_labels"])
        keep = stratified(labels, per_class[part], rng)
        write_idx(dst / files[f"{part}_images"], images[keep])
        write_idx(dst / files[f"{part}_labels"], labels[keep])
    if "mapping" in files:
        shutil.copyfile(src / files["mapping"], dst / files["mapping"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shared_data", type=Path, help="folder with mnist-dev/ and emnist-dev/")
    args = parser.parse_args()
    copy_subset(args.shared_data / "mnist-dev", SAMPLE_DIR / "mnist", mnist_files(), {"train": 200, "test": 50})
    copy_subset(
        args.shared_data / "emnist-dev", SAMPLE_DIR / "emnist", emnist_files("balanced"), {"train": 50, "test": 20}
    )


if __name__ == "__main__":
    main()
