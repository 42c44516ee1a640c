"""Your own handwriting, kept: drawings corrected on the pad, appended to a samples file, read back for fine-tuning.

The file holds one JSON object per line: the label, the pad strokes, the 28×28
image the model saw and a checksum of all three. Appending writes one whole
line at the end under a lock and syncs it to disk, so a crash, a full disk or
two pads saving at once can at worst leave a broken *last* line: every earlier
sample stays readable, and the next append starts on a fresh line. Reading
skips damaged lines, keeps every good sample and warns, naming the file and
the lines.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from . import config
from .errors import HcrError

if TYPE_CHECKING:
    import keras

Point = tuple[float, float]


def default_path() -> Path:
    """``data/my_handwriting.jsonl`` (under ``HCR_DATA_DIR`` when set); quick mode keeps its own file."""
    name = "my_handwriting_quick.jsonl" if config.quick_mode() else "my_handwriting.jsonl"
    return Path(os.environ.get(config.DATA_DIR_ENV, config.PROJECT_ROOT / "data")).expanduser() / name


@dataclass(frozen=True)
class Sample:
    """One character you drew and named: its label, the strokes on the pad and the 28×28 image the model saw."""

    label: str
    strokes: list[list[Point]]
    image: np.ndarray  # 28×28 uint8, white ink on black
    saved_at: float = 0.0


class SamplesFileError(HcrError, OSError):
    """The samples file cannot be written (a full disk, no permission); it is left as it was."""


class SampleError(HcrError, ValueError):
    """What was typed is not one character of the model, or there is no drawing to save."""


class SamplesFileWarning(UserWarning):
    """Some lines of a samples file are damaged and were skipped; the good samples were kept."""


def _checksum(label: str, strokes: list, image_b64: str) -> str:
    payload = json.dumps([label, strokes, image_b64], separators=(",", ":")).encode()
    return hashlib.sha256(payload).hexdigest()[:16]


def _line(sample: Sample) -> bytes:
    image = np.asarray(sample.image, dtype=np.uint8)
    if image.shape != (28, 28):
        raise ValueError(f"a sample image is 28×28, not {image.shape}")
    if not sample.label:
        raise ValueError("a sample needs a label: the character you drew")
    strokes = [[[round(float(x), 1), round(float(y), 1)] for x, y in stroke] for stroke in sample.strokes]
    encoded = base64.b64encode(image.tobytes()).decode("ascii")
    record = {
        "label": sample.label,
        "strokes": strokes,
        "image": encoded,
        "saved_at": round(sample.saved_at, 3),
        "checksum": _checksum(sample.label, strokes, encoded),
    }
    return (json.dumps(record, separators=(",", ":")) + "\n").encode()


@contextlib.contextmanager
def _locked(handle) -> Iterator[None]:
    """An exclusive lock on an open file (fcntl on Linux and macOS, msvcrt on Windows)."""
    if os.name == "nt":
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
        try:
            yield
        finally:
            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def label_for(text: str, classes: Sequence[str]) -> str:
    """The class a typed character belongs to: itself, or its capital where the model merges the two (c → C).

    Raises:
        SampleError: not one character, or no class of the model holds it.
    """
    char = text.strip()
    if len(char) != 1:
        raise SampleError(f"type one character, not {text!r}")
    for candidate in (char, char.upper()):
        if candidate in classes:
            return candidate
    raise SampleError(f"{char!r} is not one of the model's characters ({''.join(classes)})")


def append_sample(sample: Sample, path: Path | str | None = None) -> Path:
    """Append one sample as one line at the end of the samples file (created if needed), synced to disk.

    Raises:
        ValueError: the sample has no label or its image is not 28×28.
        SamplesFileError: the disk is full or the file cannot be written; the file is left as it was.
    """
    path = Path(path) if path is not None else default_path()
    line = _line(sample if sample.saved_at else Sample(sample.label, sample.strokes, sample.image, time.time()))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a+b") as handle, _locked(handle):
            size = handle.seek(0, os.SEEK_END)
            if size:
                handle.seek(-1, os.SEEK_END)
                if handle.read(1) != b"\n":  # the last write was cut off: never glue a new sample to its remains
                    line = b"\n" + line
            try:
                handle.seek(0, os.SEEK_END)
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
            except OSError:
                handle.truncate(size)  # take back what part of the line reached the file
                raise
    except OSError as err:
        raise SamplesFileError(f"cannot save to {path}: {err.strerror or err}") from None
    return path


def _parse(text: str) -> Sample:
    record = json.loads(text)
    if _checksum(record["label"], record["strokes"], record["image"]) != record["checksum"]:
        raise ValueError("checksum mismatch")
    image = np.frombuffer(base64.b64decode(record["image"], validate=True), dtype=np.uint8)
    strokes = [[(float(x), float(y)) for x, y in stroke] for stroke in record["strokes"]]
    return Sample(record["label"], strokes, image.reshape(28, 28).copy(), float(record.get("saved_at", 0.0)))


def read_samples(path: Path | str | None = None) -> list[Sample]:
    """Every good sample of the file, in the order saved; [] if the file does not exist yet.

    Damaged lines (a write cut off by a crash or a full disk, an edited line)
    are skipped with a :class:`SamplesFileWarning` that names the file and the lines.
    """
    path = Path(path) if path is not None else default_path()
    if not path.exists():
        return []
    samples, damaged = [], []
    for number, raw in enumerate(path.read_bytes().split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            samples.append(_parse(raw.decode("utf-8")))
        except (ValueError, KeyError, TypeError, json.JSONDecodeError, UnicodeDecodeError):
            damaged.append(number)
    if damaged:
        shown = ", ".join(map(str, damaged[:10])) + (" ..." if len(damaged) > 10 else "")
        warnings.warn(
            f"{path}: {len(damaged)} damaged line(s) skipped (line {shown}); kept the {len(samples)} good sample(s)",
            SamplesFileWarning,
            stacklevel=2,
        )
    return samples


def as_arrays(samples: Sequence[Sample], classes: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Images (N×28×28) and class indices of ``samples`` for a model with ``classes``; unknown labels are refused."""
    unknown = sorted({s.label for s in samples} - set(classes))
    if unknown:
        raise ValueError(f"labels {unknown} are not among the model's classes")
    images = np.stack([s.image for s in samples]) if samples else np.zeros((0, 28, 28), np.uint8)
    return images, np.array([list(classes).index(s.label) for s in samples], dtype=np.int64)


HANDWRITING_DIR = "handwriting"  # under your models folder: the models fine-tuned on your drawings


def save_fine_tuned(
    model: keras.Model, classes: Sequence[str], models_dir: Path | str | None = None, name: str = "emnist_cnn.keras"
) -> tuple[Path, Path | None]:
    """Save a model fine-tuned on your drawings as ``models_dir/handwriting/name``, destroying no model.

    An earlier fine-tuned model there (and its labels file) is first renamed
    ``NAME.1.keras``, ``NAME.2.keras``... (the first free number); nothing is
    deleted, and the model it started from (``models_dir/name``) is never written.
    Returns the saved path and the earlier model's new path (None if there was none).
    """
    from .saved import keep_earlier, save_model  # imported here: reading samples must not start TensorFlow

    target = Path(models_dir if models_dir is not None else config.models_dir()) / HANDWRITING_DIR / name
    kept = keep_earlier(target)
    return save_model(model, target, "emnist", classes), kept
