"""IDX parsing on the shipped real sample, and its failures on damaged files."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from hcr_utils.idx import DataFileError, read_idx, read_images_and_labels, write_idx


def test_reads_real_mnist_sample(sample_dir: Path) -> None:
    images, labels = read_images_and_labels(
        sample_dir / "mnist/train-images-idx3-ubyte.gz", sample_dir / "mnist/train-labels-idx1-ubyte.gz"
    )
    assert images.shape == (2000, 28, 28)
    assert images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [200] * 10
    assert images.max() == 255
    assert images.min() == 0
    # real digits: the ink is in the middle, the border is background
    assert images[:, :, :3].mean() < 2
    assert images[:, 10:18, 10:18].mean() > 60


def test_round_trip(tmp_path: Path) -> None:
    array = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    write_idx(tmp_path / "x.gz", array)
    assert np.array_equal(read_idx(tmp_path / "x.gz", 3), array)


def test_truncated_file_names_the_file(mnist_copy: Path) -> None:
    path = mnist_copy / "t10k-images-idx3-ubyte.gz"
    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(raw[:-784]))  # one image short
    with pytest.raises(DataFileError, match="t10k-images-idx3-ubyte.gz.*truncated"):
        read_idx(path, 3)


def test_cut_gzip_stream_is_reported(mnist_copy: Path) -> None:
    path = mnist_copy / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(DataFileError, match="not a complete gzip file"):
        read_idx(path, 3)


def test_not_gzip_at_all(tmp_path: Path) -> None:
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_text("<html>404 Not Found</html>")
    with pytest.raises(DataFileError, match="train-images-idx3-ubyte.gz"):
        read_idx(path, 3)


def test_wrong_magic_number(mnist_copy: Path) -> None:
    # a labels file read as images: magic 0x00000801, not 0x00000803
    with pytest.raises(DataFileError, match="bad magic number 0x00000801"):
        read_idx(mnist_copy / "t10k-labels-idx1-ubyte.gz", 3)


def test_images_and_labels_must_match(mnist_copy: Path) -> None:
    with pytest.raises(DataFileError, match="holds 500 images but .* holds 2000 labels"):
        read_images_and_labels(mnist_copy / "t10k-images-idx3-ubyte.gz", mnist_copy / "train-labels-idx1-ubyte.gz")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="not found"):
        read_idx(tmp_path / "nothing.gz", 1)
