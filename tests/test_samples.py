"""The samples file of your own handwriting: append, read back, survive damage and concurrent writers."""

from __future__ import annotations

import multiprocessing
import warnings
from pathlib import Path

import numpy as np
import pytest

from hcr_utils.samples import Sample, SamplesFileWarning, append_sample, as_arrays, label_for, read_samples
from hcr_utils.strokes import centre_line_strokes

EMNIST_CLASSES = tuple("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabdefghnqrt")


def _sample(emnist_sample, i: int) -> Sample:
    image = emnist_sample.x_test[i]
    return Sample(emnist_sample.classes[emnist_sample.y_test[i]], centre_line_strokes(image), image)


@pytest.fixture()
def emnist_sample():
    from hcr_utils.config import SAMPLE_DIR
    from hcr_utils.datasets import load_emnist

    return load_emnist("balanced", SAMPLE_DIR / "emnist")


def test_samples_round_trip_in_order(tmp_path: Path, emnist_sample) -> None:
    path = tmp_path / "mine.jsonl"
    assert read_samples(path) == []
    saved = [_sample(emnist_sample, i) for i in range(5)]
    for sample in saved:
        append_sample(sample, path)
    back = read_samples(path)
    assert [s.label for s in back] == [s.label for s in saved]
    assert all(np.array_equal(a.image, b.image) for a, b in zip(back, saved))
    assert back[0].strokes == [[(round(x, 1), round(y, 1)) for x, y in stroke] for stroke in saved[0].strokes]
    assert all(s.saved_at > 0 for s in back)
    images, labels = as_arrays(back, emnist_sample.classes)
    assert images.shape == (5, 28, 28)
    assert labels.tolist() == emnist_sample.y_test[:5].tolist()


def test_bad_samples_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="28×28"):
        append_sample(Sample("A", [], np.zeros((10, 10), np.uint8)), tmp_path / "x.jsonl")
    with pytest.raises(ValueError, match="needs a label"):
        append_sample(Sample("", [], np.zeros((28, 28), np.uint8)), tmp_path / "x.jsonl")
    assert not (tmp_path / "x.jsonl").exists() or read_samples(tmp_path / "x.jsonl") == []
    with pytest.raises(ValueError, match=r"\['%'\] are not among"):
        as_arrays([Sample("%", [], np.zeros((28, 28), np.uint8))], EMNIST_CLASSES)


def test_a_write_cut_off_keeps_every_earlier_sample_and_the_next_one(tmp_path: Path, emnist_sample) -> None:
    path = tmp_path / "mine.jsonl"
    for i in range(3):
        append_sample(_sample(emnist_sample, i), path)
    whole = path.read_bytes()
    path.write_bytes(whole + whole.splitlines(keepends=True)[0][:57])  # a crash half-way through a fourth line
    append_sample(_sample(emnist_sample, 3), path)  # the next save starts on a fresh line
    with pytest.warns(SamplesFileWarning, match=rf"{path}.*1 damaged line.*line 4.*kept the 4 good"):
        back = read_samples(path)
    assert [s.label for s in back] == [emnist_sample.classes[y] for y in emnist_sample.y_test[:4]]


def test_edited_or_garbled_lines_are_skipped_by_checksum(tmp_path: Path, emnist_sample) -> None:
    path = tmp_path / "mine.jsonl"
    for i in range(3):
        append_sample(_sample(emnist_sample, i), path)
    lines = path.read_text().splitlines()
    lines[1] = lines[1].replace('"label":"', '"label":"X', 1)  # someone edited the label by hand
    path.write_text("\n".join(lines) + "\n\x00\x00garbage\n")
    with pytest.warns(SamplesFileWarning, match=r"2 damaged line\(s\) skipped \(line 2, 4\)"):
        back = read_samples(path)
    assert len(back) == 2


def test_a_full_disk_leaves_the_file_as_it_was(tmp_path: Path, emnist_sample, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "mine.jsonl"
    append_sample(_sample(emnist_sample, 0), path)
    before = path.read_bytes()

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("hcr_utils.samples.os.fsync", full_disk)
    with pytest.raises(OSError, match="No space left"):
        append_sample(_sample(emnist_sample, 1), path)
    monkeypatch.undo()
    assert path.read_bytes() == before  # the half-written sample was taken back
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and the first sample reads back cleanly
        back = read_samples(path)
    assert [sample.label for sample in back] == [_sample(emnist_sample, 0).label]


def _append_many(path: str, label: str, count: int) -> None:
    image = np.full((28, 28), ord(label) % 256, np.uint8)
    for _ in range(count):
        append_sample(Sample(label, [[(1.0, 2.0)] * 50], image), path)


def test_concurrent_appends_never_mix_lines(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.jsonl")
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"  # fork: no TensorFlow start-up
    workers = [
        multiprocessing.get_context(method).Process(target=_append_many, args=(path, label, 40)) for label in "ABCD"
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        back = read_samples(path)
    assert sorted(s.label for s in back) == sorted("ABCD" * 40)
    assert all(int(s.image[0, 0]) == ord(s.label) for s in back)


def test_typed_labels_map_to_the_models_classes() -> None:
    assert label_for("a", EMNIST_CLASSES) == "a"
    assert label_for(" o ", EMNIST_CLASSES) == "O"  # merged into its capital in EMNIST Balanced
    assert label_for("7", tuple("0123456789")) == "7"
    with pytest.raises(ValueError, match="one character"):
        label_for("ab", EMNIST_CLASSES)
    with pytest.raises(ValueError, match="not one of the model's characters"):
        label_for("x", tuple("0123456789"))
