"""Build data/sample/ (shipped with the project) from the development data.

A stratified, seeded subset of real images, written in the official file
names, headers and orientation so the normal loaders read it unchanged; and
the labels of a ByMerge-like training file (see :func:`write_bymerge_labels`), and pad drawings of real
training characters (see :func:`write_pad_drawings`).

    python benchmarks/make_sample.py ../shared/data
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np

from hcr_utils.config import SAMPLE_DIR, SEED
from hcr_utils.datasets import emnist_files, load_emnist, mnist_files, stratified_indices
from hcr_utils.idx import read_idx, read_images_and_labels, write_idx
from hcr_utils.preprocessing import prepare
from hcr_utils.samples import Sample, append_sample
from hcr_utils.strokes import centre_line_strokes, render_strokes

BYMERGE_SAMPLE = 20_000  # labels in the sample's ByMerge training-label file
PAD_DRAWINGS = SAMPLE_DIR / "pad_drawings.jsonl"
DRAWINGS_PER_CLASS = 5


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


def write_bymerge_labels(src: Path, dst: Path, size: int = BYMERGE_SAMPLE) -> None:
    """ByMerge's label file and mapping for the sample, from the development training labels.

    The development training set was taken from EMNIST ByMerge's test split
    (same 47 classes as Balanced, natural class frequencies), so a stratified
    subset of its labels keeps ByMerge's frequencies: what notebook 05 counts.
    """
    balanced, bymerge = emnist_files("balanced"), emnist_files("bymerge")
    labels = read_idx(src / balanced["train_labels"], 1)
    write_idx(dst / bymerge["train_labels"], labels[stratified_indices(labels, size, SEED)])
    shutil.copyfile(src / balanced["mapping"], dst / bymerge["mapping"])


def write_pad_drawings(emnist_sample: Path, path: Path = PAD_DRAWINGS, per_class: int = DRAWINGS_PER_CLASS) -> None:
    """Pad drawings of real training characters, for notebook 11 to run without any drawing of yours.

    Training images only: notebook 11 fine-tunes on these drawings and scores
    the result on the test set, which must stay unseen. The first
    ``per_class`` training images of every class in the sample are
    thinned to their centre line and kept as pad strokes (every third dot of
    it: the round brush overlaps them), with the 28×28 image the pad's model sees.
    """
    data = load_emnist("balanced", emnist_sample)
    path.unlink(missing_ok=True)
    for c, char in enumerate(data.classes):
        for image in data.x_train[data.y_train == c][:per_class]:
            strokes = centre_line_strokes(image)[::3]
            append_sample(Sample(char, strokes, prepare(render_strokes(strokes), "emnist"), saved_at=1.0), path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shared_data", type=Path, help="folder with mnist-dev/ and emnist-dev/")
    args = parser.parse_args()
    copy_subset(args.shared_data / "mnist-dev", SAMPLE_DIR / "mnist", mnist_files(), {"train": 200, "test": 50})
    copy_subset(
        args.shared_data / "emnist-dev", SAMPLE_DIR / "emnist", emnist_files("balanced"), {"train": 50, "test": 20}
    )
    write_bymerge_labels(args.shared_data / "emnist-dev", SAMPLE_DIR / "emnist")
    write_pad_drawings(SAMPLE_DIR / "emnist")


if __name__ == "__main__":
    main()
