"""MNIST and EMNIST as upright uint8 images with character class names.

Both loaders read the official IDX gzip files from a folder and download what
is missing (MNIST from the Keras source, EMNIST from NIST), verified by SHA-256.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from . import config
from .download import download
from .idx import DataFileError, read_idx, read_images_and_labels, write_idx

MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
EMNIST_URL = "https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip"
EMNIST_SHA256 = "fb9bb67e33772a9cc0b895e4ecf36d2cf35be8b709693c3564cea2a019fcda8e"
EMNIST_SPLITS = ("balanced", "byclass", "bymerge", "digits", "letters", "mnist")


def stratified_indices(labels: np.ndarray, size: int, seed: int = config.SEED) -> np.ndarray:
    """Indices of ``size`` examples (sorted) that keep every class's share of ``labels``."""
    rng = np.random.default_rng(seed)
    counts = np.bincount(labels)
    quota = np.floor(counts * size / len(labels)).astype(int)
    # hand the few indices lost to rounding to the classes with the largest remainders
    remainders = counts * size / len(labels) - quota
    quota[np.argsort(-remainders)[: size - quota.sum()]] += 1
    picks = [rng.choice(np.flatnonzero(labels == c), quota[c], replace=False) for c in range(len(counts))]
    return np.sort(np.concatenate(picks))


@dataclass(frozen=True)
class Dataset:
    """Train and test images (N×28×28 uint8, upright, white ink on black) and labels.

    ``y_train``/``y_test`` are class indices; ``classes[i]`` is the character of class ``i``.
    ``x_val``/``y_val`` exist once :meth:`with_validation` has held part of the
    training set out to choose between models: the test set is kept for the end.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[str, ...]
    x_val: np.ndarray | None = None
    y_val: np.ndarray | None = None

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def characters(self, labels: np.ndarray) -> np.ndarray:
        """Class indices turned into their characters."""
        return np.asarray(self.classes)[labels]

    def with_validation(self, size: float | int = 0.1, seed: int = config.SEED) -> Dataset:
        """Hold out a stratified ``size`` of the training set (a share, or a number of images) for validation."""
        if self.x_val is not None:
            raise ValueError(f"{self.name} already has a validation set")
        count = int(round(size * len(self.y_train))) if isinstance(size, float) else int(size)
        if not 0 < count < len(self.y_train):
            raise ValueError(f"a validation set of {count} images cannot be held out of {len(self.y_train)}")
        held = np.zeros(len(self.y_train), bool)
        held[stratified_indices(self.y_train, count, seed)] = True
        return replace(
            self,
            x_train=self.x_train[~held],
            y_train=self.y_train[~held],
            x_val=self.x_train[held],
            y_val=self.y_train[held],
        )

    def subset(self, size: int, seed: int = config.SEED) -> Dataset:
        """At most ``size`` training images, stratified; the validation and test sets are kept."""
        if size >= len(self.y_train):
            return self
        keep = stratified_indices(self.y_train, size, seed)
        return replace(self, x_train=self.x_train[keep], y_train=self.y_train[keep])


def _idx_files(train_stem: str, test_stem: str) -> dict[str, str]:
    """IDX file names keyed ``train_images``, ``train_labels``, ``test_images``, ``test_labels``."""
    return {
        f"{part}_{kind}": f"{stem}-{kind}-idx{3 if kind == 'images' else 1}-ubyte.gz"
        for part, stem in (("train", train_stem), ("test", test_stem))
        for kind in ("images", "labels")
    }


def mnist_files() -> dict[str, str]:
    """Official MNIST file names (``train-*``, ``t10k-*``)."""
    return _idx_files("train", "t10k")


def emnist_files(split: str) -> dict[str, str]:
    """Official EMNIST file names of ``split``, plus ``mapping``."""
    return {
        **_idx_files(f"emnist-{split}-train", f"emnist-{split}-test"),
        "mapping": f"emnist-{split}-mapping.txt",
    }


def _read_split(folder: Path, files: dict[str, str]) -> tuple[np.ndarray, ...]:
    x_train, y_train = read_images_and_labels(folder / files["train_images"], folder / files["train_labels"])
    x_test, y_test = read_images_and_labels(folder / files["test_images"], folder / files["test_labels"])
    return x_train, y_train, x_test, y_test


def _missing(folder: Path, files: dict[str, str]) -> list[str]:
    return [name for name in files.values() if not (folder / name).exists()]


def _check_labels(labels: np.ndarray, num_classes: int, path: Path) -> None:
    if labels.size and int(labels.max()) >= num_classes:
        raise DataFileError(f"{path}: label {int(labels.max())} has no entry among {num_classes} classes")


def _write_atomically(path: Path, data: bytes | np.ndarray) -> None:
    """Write bytes (or an IDX array) to ``path`` via a temporary file and a rename."""
    tmp = path.with_name(path.name + ".part")
    if isinstance(data, np.ndarray):
        write_idx(tmp, data)
    else:
        tmp.write_bytes(data)
    os.replace(tmp, path)


def fetch_mnist(folder: Path) -> None:
    """Download Keras' ``mnist.npz`` into ``folder`` and write the four official IDX files."""
    archive = download(MNIST_URL, folder / "mnist.npz", MNIST_SHA256)
    files = mnist_files()
    with np.load(archive) as arrays:
        for key, name in files.items():
            part, kind = key.split("_")
            _write_atomically(folder / name, arrays[f"{'x' if kind == 'images' else 'y'}_{part}"])


def fetch_emnist(folder: Path, names: list[str]) -> None:
    """Download NIST's ``gzip.zip`` (536 MB) into ``folder`` and extract the files ``names``."""
    archive = download(EMNIST_URL, folder / "gzip.zip", EMNIST_SHA256)
    try:
        with zipfile.ZipFile(archive) as bundle:
            members = {Path(info.filename).name: info.filename for info in bundle.infolist()}
            for name in names:
                if name not in members:
                    raise DataFileError(f"{archive}: has no member {name}")
                tmp = folder / (name + ".part")
                with bundle.open(members[name]) as src, open(tmp, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                os.replace(tmp, folder / name)
    except zipfile.BadZipFile as err:
        raise DataFileError(f"{archive}: not a valid zip archive ({err}); delete it and download again") from None


def _folder(data_dir: Path | str | None, name: str) -> Path:
    return Path(data_dir).expanduser() if data_dir is not None else config.data_root() / name


def load_mnist(data_dir: Path | str | None = None) -> Dataset:
    """MNIST digits from ``data_dir`` (default ``data/mnist``), downloading missing files.

    ``data_dir`` holds the official ``train-*``/``t10k-*`` IDX gzip files.
    """
    folder = _folder(data_dir, "mnist")
    files = mnist_files()
    if _missing(folder, files):
        folder.mkdir(parents=True, exist_ok=True)
        fetch_mnist(folder)
    x_train, y_train, x_test, y_test = _read_split(folder, files)
    classes = tuple("0123456789")
    _check_labels(y_train, 10, folder / files["train_labels"])
    _check_labels(y_test, 10, folder / files["test_labels"])
    return Dataset("mnist", x_train, y_train, x_test, y_test, classes)


def read_mapping(path: Path) -> tuple[str, ...]:
    """Parse an EMNIST mapping file (``label ascii_code`` per line) into characters by label."""
    try:
        rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
        pairs = sorted((int(label), chr(int(code))) for label, code in rows)
    except (OSError, ValueError) as err:
        raise DataFileError(f"{path}: not an EMNIST mapping file ({err})") from None
    if [label for label, _ in pairs] != list(range(len(pairs))):
        raise DataFileError(f"{path}: labels are not 0..{len(pairs) - 1} without gaps")
    return tuple(char for _, char in pairs)


def upright(images: np.ndarray) -> np.ndarray:
    """Fix EMNIST's orientation: NIST stores every image transposed."""
    return np.ascontiguousarray(images.transpose(0, 2, 1))


def load_emnist(split: str = "balanced", data_dir: Path | str | None = None) -> Dataset:
    """EMNIST ``split`` from ``data_dir`` (default ``data/emnist``), downloading missing files.

    Images are returned upright (the transposed storage is undone here).
    """
    if split not in EMNIST_SPLITS:
        raise ValueError(f"unknown EMNIST split {split!r}; choose one of {', '.join(EMNIST_SPLITS)}")
    folder = _folder(data_dir, "emnist")
    files = emnist_files(split)
    _ensure_emnist(folder, list(files.values()))
    classes = read_mapping(folder / files["mapping"])
    x_train, y_train, x_test, y_test = _read_split(folder, files)
    _check_labels(y_train, len(classes), folder / files["train_labels"])
    _check_labels(y_test, len(classes), folder / files["test_labels"])
    return Dataset(f"emnist-{split}", upright(x_train), y_train, upright(x_test), y_test, classes)


def _ensure_emnist(folder: Path, names: list[str]) -> None:
    """Extract ``names`` from NIST's archive (downloading it first if needed) unless all are in ``folder``."""
    if any(not (folder / name).exists() for name in names):
        folder.mkdir(parents=True, exist_ok=True)
        fetch_emnist(folder, names)


def load_emnist_labels(
    split: str, part: str = "train", data_dir: Path | str | None = None
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Only the labels (and class characters) of one part of an EMNIST split, e.g. ByMerge's 698k training labels.

    Reading a label file is instant, while the split's images would take
    minutes and gigabytes: enough to count how often each character occurs.
    """
    if split not in EMNIST_SPLITS or part not in ("train", "test"):
        raise ValueError(f"unknown EMNIST split/part {split!r}/{part!r}; splits: {', '.join(EMNIST_SPLITS)}")
    folder = _folder(data_dir, "emnist")
    files = emnist_files(split)
    _ensure_emnist(folder, [files[f"{part}_labels"], files["mapping"]])
    classes = read_mapping(folder / files["mapping"])
    labels = read_idx(folder / files[f"{part}_labels"], 1)
    _check_labels(labels, len(classes), folder / files[f"{part}_labels"])
    return labels, classes


def load(name: str, data_dir: Path | str | None = None) -> Dataset:
    """Load ``"mnist"`` or ``"emnist"`` (Balanced) by name."""
    loaders = {"mnist": load_mnist, "emnist": lambda d: load_emnist("balanced", d)}
    if name not in loaders:
        raise ValueError(f"unknown dataset {name!r}; choose mnist or emnist")
    return loaders[name](data_dir)
