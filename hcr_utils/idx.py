"""Read and write the IDX format of MNIST and EMNIST (gzip-compressed).

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number
of dimensions), one big-endian uint32 per dimension, then the data. MNIST and
EMNIST use type 0x08 (unsigned byte): labels are 1-D, images are 3-D.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

from .errors import HcrError

UBYTE = 0x08


class DataFileError(HcrError, ValueError):
    """A data file is missing, corrupt, truncated or does not match its partner."""


def read_idx(path: Path | str, ndim: int) -> np.ndarray:
    """Read a gzip IDX file of unsigned bytes with ``ndim`` dimensions.

    Raises:
        DataFileError: naming the file, if it is not gzip, has a wrong magic
            number or dimension count, or holds fewer or more bytes than its
            header announces. Nothing is returned half-loaded.
    """
    path = Path(path)
    try:
        with gzip.open(path, "rb") as stream:
            raw = stream.read()
    except FileNotFoundError:
        raise DataFileError(f"{path}: file not found") from None
    except (OSError, EOFError, zlib.error) as err:
        raise DataFileError(f"{path}: not a complete gzip file ({err}); delete it and download again") from None
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataFileError(f"{path}: too short for an IDX header ({len(raw)} bytes)")
    zero, dtype, dims = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype != UBYTE or dims != ndim:
        raise DataFileError(
            f"{path}: bad magic number 0x{raw[:4].hex()} (expected 0x0000{UBYTE:02x}{ndim:02x}, "
            f"unsigned bytes in {ndim} dimension(s))"
        )
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    expected = int(np.prod(shape, dtype=np.int64))
    if len(raw) - header != expected:
        raise DataFileError(
            f"{path}: header announces shape {shape} ({expected} bytes) but the file holds "
            f"{len(raw) - header} bytes; it is truncated or corrupt"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape).copy()


def write_idx(path: Path | str, array: np.ndarray) -> None:
    """Write a uint8 array as a gzip IDX file (used for samples and conversions)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = struct.pack(">HBB", 0, UBYTE, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.GzipFile(path, "wb", mtime=0) as stream:  # mtime=0: same bytes every run
        stream.write(header + array.tobytes())


def read_images_and_labels(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read an images file (N×28×28) and its labels file (N), checking they match."""
    images = read_idx(images_path, 3)
    labels = read_idx(labels_path, 1)
    if images.shape[1:] != (28, 28):
        raise DataFileError(f"{images_path}: images are {images.shape[1:]}, expected 28x28")
    if len(images) != len(labels):
        raise DataFileError(f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels")
    return images, labels
