"""MNIST and EMNIST loaders on the shipped real sample: orientation, labels, downloads."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from hcr_utils import datasets
from hcr_utils.config import DATA_DIR_ENV, QUICK_ENV, data_root
from hcr_utils.datasets import emnist_files, load_emnist, load_mnist, read_mapping, upright
from hcr_utils.download import DownloadError, sha256_of
from hcr_utils.idx import DataFileError, read_idx


def test_load_mnist_sample(sample_dir: Path) -> None:
    data = load_mnist(sample_dir / "mnist")
    assert data.x_train.shape == (2000, 28, 28)
    assert data.x_test.shape == (500, 28, 28)
    assert data.classes == tuple("0123456789")
    assert data.characters(np.array([0, 7])).tolist() == ["0", "7"]


def test_emnist_mapping_and_labels(sample_dir: Path) -> None:
    data = load_emnist("balanced", sample_dir / "emnist")
    assert data.num_classes == 47
    assert "".join(data.classes[:10]) == "0123456789"
    assert "".join(data.classes[10:36]) == "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    assert "".join(data.classes[36:]) == "abdefghnqrt"  # the 11 lower-case letters not merged
    assert np.bincount(data.y_test).tolist() == [20] * 47


def test_mapping_round_trip(tmp_path: Path, sample_dir: Path) -> None:
    classes = read_mapping(sample_dir / "emnist/emnist-balanced-mapping.txt")
    text = "\r\n".join(f"{label} {ord(char)}" for label, char in enumerate(classes)) + "\r\n"
    (tmp_path / "m.txt").write_text(text)
    assert read_mapping(tmp_path / "m.txt") == classes


def test_mapping_with_gap_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "m.txt").write_text("0 48\n2 50\n")
    with pytest.raises(DataFileError, match="without gaps"):
        read_mapping(tmp_path / "m.txt")


def _mean_image(images: np.ndarray) -> np.ndarray:
    return images.astype(float).mean(axis=0)


def test_emnist_is_returned_upright(sample_dir: Path) -> None:
    """An upright '1' or 'I' is a vertical bar: more ink spread down rows than across columns."""
    data = load_emnist("balanced", sample_dir / "emnist")
    ones = data.x_train[np.isin(data.y_train, [1, data.classes.index("I")])]
    mean = _mean_image(ones)
    rows_inked = (mean.mean(axis=1) > 20).sum()
    cols_inked = (mean.mean(axis=0) > 20).sum()
    assert rows_inked > 1.5 * cols_inked  # tall; the raw files show it lying on its side
    raw = read_idx(sample_dir / "emnist" / emnist_files("balanced")["train_images"], 3)
    assert np.array_equal(upright(raw), data.x_train)
    assert not np.array_equal(raw, data.x_train)  # the files really are stored transposed


def test_emnist_sevens_are_not_mirrored(sample_dir: Path) -> None:
    """An upright '7': a heavy bar on top, and the stem runs down to the left of it."""
    data = load_emnist("balanced", sample_dir / "emnist")
    mean = _mean_image(data.x_train[data.y_train == data.classes.index("7")])
    assert mean[2:8].sum() > 1.5 * mean[20:26].sum()

    def centre_column(rows: np.ndarray) -> float:
        weights = rows.sum(axis=0)
        return float((weights * np.arange(28)).sum() / weights.sum())

    assert centre_column(mean[18:25]) < centre_column(mean[3:8]) - 1


def test_unknown_split_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown EMNIST split 'balance'"):
        load_emnist("balance")


def test_label_out_of_range_is_reported(tmp_path: Path, sample_dir: Path) -> None:
    folder = Path(shutil.copytree(sample_dir / "emnist", tmp_path / "emnist"))
    mapping = folder / "emnist-balanced-mapping.txt"
    mapping.write_text("\n".join(mapping.read_text().splitlines()[:40]))
    with pytest.raises(DataFileError, match="has no entry among 40 classes"):
        load_emnist("balanced", folder)


def test_data_root_follows_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sample_dir: Path) -> None:
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    monkeypatch.setenv(QUICK_ENV, "1")
    assert data_root() == sample_dir
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path))
    assert data_root() == tmp_path


def test_missing_mnist_is_downloaded_from_npz(tmp_path: Path, sample_dir: Path, file_server, monkeypatch) -> None:
    """Keras ships MNIST as one mnist.npz: it is fetched, verified and turned into the official IDX files."""
    sample = load_mnist(sample_dir / "mnist")
    npz = file_server.root / "mnist.npz"
    np.savez(npz, x_train=sample.x_train, y_train=sample.y_train, x_test=sample.x_test, y_test=sample.y_test)
    monkeypatch.setattr(datasets, "MNIST_URL", file_server.url("mnist.npz"))
    monkeypatch.setattr(datasets, "MNIST_SHA256", sha256_of(npz))
    data = load_mnist(tmp_path / "mnist")
    assert np.array_equal(data.x_test, sample.x_test)
    assert np.array_equal(data.y_train, sample.y_train)
    assert sorted(p.name for p in (tmp_path / "mnist").iterdir()) == sorted(
        ["mnist.npz", *datasets.mnist_files().values()]
    )
    load_mnist(tmp_path / "mnist")  # second call reads the files, no new request
    assert file_server.requests == ["/mnist.npz"]


def test_missing_emnist_is_extracted_from_nist_zip(tmp_path: Path, sample_dir: Path, file_server, monkeypatch) -> None:
    """NIST ships every split in gzip.zip under gzip/: only the files asked for are extracted."""
    archive = file_server.root / "gzip.zip"
    bymerge = emnist_files("bymerge")
    with zipfile.ZipFile(archive, "w") as bundle:
        for name in [*emnist_files("balanced").values(), bymerge["train_labels"], bymerge["mapping"]]:
            bundle.write(sample_dir / "emnist" / name, f"gzip/{name}")
    monkeypatch.setattr(datasets, "EMNIST_URL", file_server.url("gzip.zip"))
    monkeypatch.setattr(datasets, "EMNIST_SHA256", sha256_of(archive))
    data = load_emnist("balanced", tmp_path / "emnist")
    expected = load_emnist("balanced", sample_dir / "emnist")
    assert np.array_equal(data.x_train, expected.x_train)
    assert data.classes == expected.classes
    assert not list((tmp_path / "emnist").glob("*.part"))
    assert not (tmp_path / "emnist" / bymerge["train_labels"]).exists()  # nobody asked for it yet
    labels, classes = datasets.load_emnist_labels("bymerge", "train", tmp_path / "emnist")
    assert np.array_equal(labels, read_idx(sample_dir / "emnist" / bymerge["train_labels"], 1))
    assert classes == expected.classes
    assert file_server.requests == ["/gzip.zip"]  # the archive was downloaded once


def test_bymerge_labels_show_the_natural_imbalance_that_balanced_removes(sample_dir: Path) -> None:
    labels, classes = datasets.load_emnist_labels("bymerge", "train", sample_dir / "emnist")
    counts = np.bincount(labels, minlength=len(classes))
    assert len(classes) == 47
    assert counts.min() > 0
    assert counts.max() / counts.min() > 10  # real handwriting: digits and common letters dominate
    assert classes[int(counts.argmax())].isdigit()
    balanced = load_emnist("balanced", sample_dir / "emnist")
    assert np.ptp(np.bincount(balanced.y_train)) == 0  # the Balanced sample, like the official split, is flat
    with pytest.raises(ValueError, match="unknown EMNIST split"):
        datasets.load_emnist_labels("bymerge", "validation", sample_dir / "emnist")


def test_offline_download_says_where_to_put_the_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(datasets, "MNIST_URL", "http://127.0.0.1:9/mnist.npz")  # nothing listens on port 9
    monkeypatch.setattr("hcr_utils.download.time.sleep", lambda seconds: None)
    with pytest.raises(DownloadError, match=r"Connection refused.*place it at .*mnist\.npz"):
        load_mnist(tmp_path / "mnist")
