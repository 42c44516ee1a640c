"""Saving a model fine-tuned on your drawings (notebook 11's save step) never destroys a model."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from hcr_utils.config import PROJECT_ROOT
from hcr_utils.inference import Recognizer, labels_path
from hcr_utils.samples import HANDWRITING_DIR, save_fine_tuned

SHIPPED = PROJECT_ROOT / "saved_models" / "emnist_cnn.keras"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_saving_twice_keeps_every_model(tmp_path: Path) -> None:
    base = tmp_path / "emnist_cnn.keras"  # the model of notebook 06, which fine-tuning starts from
    shutil.copyfile(SHIPPED, base)
    shutil.copyfile(labels_path(SHIPPED), labels_path(base))
    before = _digest(base)
    tuned = Recognizer.load(base)

    first, kept = save_fine_tuned(tuned.model, tuned.classes, tmp_path)
    assert first == tmp_path / HANDWRITING_DIR / "emnist_cnn.keras" and kept is None
    first_digest = _digest(first)
    second, kept = save_fine_tuned(tuned.model, tuned.classes, tmp_path)
    assert second == first and kept == tmp_path / HANDWRITING_DIR / "emnist_cnn.1.keras"
    assert _digest(kept) == first_digest, "the earlier fine-tuned model is renamed, not rewritten"
    third, kept = save_fine_tuned(tuned.model, tuned.classes, tmp_path)
    assert kept == tmp_path / HANDWRITING_DIR / "emnist_cnn.2.keras"

    assert _digest(base) == before, "the model fine-tuning started from is never written"
    models = sorted(p.name for p in (tmp_path / HANDWRITING_DIR).glob("*.keras"))
    assert models == ["emnist_cnn.1.keras", "emnist_cnn.2.keras", "emnist_cnn.keras"]
    for path in (tmp_path / HANDWRITING_DIR).glob("*.keras"):
        assert Recognizer.load(path).classes == tuned.classes
