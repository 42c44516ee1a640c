"""Recognizer: load a saved model with its labels and read pictures of any kind, fast."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
import pytest

from hcr_utils import config
from hcr_utils.datasets import Dataset
from hcr_utils.inference import (
    ModelFileError,
    ModelNotFoundError,
    Recognizer,
    describe_source,
    find_model,
    labels_path,
    save_model,
)
from hcr_utils.preprocessing import BlankImageError
from hcr_utils.strokes import render_strokes

pytest_plugins = ["widget_fixtures"]

SEVEN = [[(60, 60), (220, 60), (120, 250)]]


def test_load_reads_the_labels(mnist_recognizer: Recognizer, emnist_recognizer: Recognizer) -> None:
    assert mnist_recognizer.dataset == "mnist"
    assert mnist_recognizer.classes == tuple("0123456789")
    assert emnist_recognizer.dataset == "emnist"
    assert len(emnist_recognizer.classes) == 47
    assert {"A", "a", "Z", "9"} <= set(emnist_recognizer.classes)


def test_top_k_gives_sorted_character_probability_pairs(emnist_recognizer: Recognizer, emnist_sample: Dataset) -> None:
    best = emnist_recognizer.top_k(emnist_sample.x_test[0], k=5)
    assert len(best) == 5
    assert all(char in emnist_recognizer.classes for char, _ in best)
    probs = [prob for _, prob in best]
    assert probs == sorted(probs, reverse=True)
    assert 0 < sum(probs) <= 1 + 1e-5


def test_top_k_reads_real_test_digits(mnist_recognizer: Recognizer, mnist_sample: Dataset) -> None:
    raw = mnist_recognizer.probabilities(mnist_sample.x_test).argmax(axis=1)
    read = np.array([mnist_recognizer.classes.index(mnist_recognizer.top_k(x)[0][0]) for x in mnist_sample.x_test])
    assert (read == mnist_sample.y_test).mean() >= 0.93
    assert (read == raw).mean() >= 0.95, "preprocessing a test image should rarely change the model's answer"


def test_top_k_reads_photos_of_paper_like_the_originals(
    mnist_recognizer: Recognizer, mnist_sample: Dataset, on_paper: Callable
) -> None:
    images = mnist_sample.x_test[:40]
    clean = [mnist_recognizer.top_k(x, k=1)[0][0] for x in images]
    photos = [mnist_recognizer.top_k(on_paper(x), k=1)[0][0] for x in images]
    assert np.mean(np.array(clean) == np.array(photos)) >= 0.9


def test_top_k_reads_a_drawn_seven_in_any_format(mnist_recognizer: Recognizer) -> None:
    drawing = render_strokes(SEVEN)
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., 3] = drawing  # black ink on transparent paper
    for image in (drawing, 255 - drawing, np.dstack([255 - drawing] * 3), rgba):
        assert mnist_recognizer.top_k(image)[0][0] == "7"


@pytest.mark.parametrize(
    "image",
    [np.zeros((280, 280), np.uint8), np.full((280, 280, 4), 255, np.uint8), render_strokes([[(140, 140)]])],
    ids=["blank", "white-rgba", "dot"],
)
def test_blank_pictures_raise_instead_of_guessing(mnist_recognizer: Recognizer, image: np.ndarray) -> None:
    with pytest.raises(BlankImageError):
        mnist_recognizer.top_k(image)


def test_missing_model_names_what_creates_it(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match=r"04_mnist_improve_and_evaluate\.ipynb.*`hcr train mnist"):
        Recognizer.load(tmp_path / "mnist_cnn.keras")
    with pytest.raises(ModelNotFoundError, match="06_emnist_train"):
        Recognizer.load(tmp_path / "emnist_cnn.keras")


def test_missing_labels_file_is_reported(tmp_path: Path, models_dir: Path) -> None:
    (tmp_path / "mnist_cnn.keras").write_bytes((models_dir / "mnist_cnn.keras").read_bytes())
    with pytest.raises(ModelNotFoundError, match="labels file"):
        Recognizer.load(tmp_path / "mnist_cnn.keras")


def test_find_model_falls_back_to_the_shipped_models(
    tmp_path: Path, models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(config, "SHIPPED_MODELS_DIR", models_dir)
    assert find_model("mnist_cnn.keras", tmp_path / "quick") == models_dir / "mnist_cnn.keras"
    assert labels_path(find_model("emnist_cnn.keras", models_dir)).exists()
    monkeypatch.setattr(config, "SHIPPED_MODELS_DIR", tmp_path / "nothing")
    with pytest.raises(ModelNotFoundError, match=str(tmp_path / "quick" / "mnist_cnn.keras")):
        find_model("mnist_cnn.keras", tmp_path / "quick")


def test_find_model_prefers_your_model_and_says_whose_it_is(
    tmp_path: Path, models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(config, "SHIPPED_MODELS_DIR", models_dir)
    shipped = find_model("emnist_cnn.keras", tmp_path / "mine")
    assert shipped == models_dir / "emnist_cnn.keras"
    assert "shipped with the course" in describe_source(shipped)
    (tmp_path / "mine").mkdir()
    for source in (shipped, labels_path(shipped)):
        (tmp_path / "mine" / source.name).write_bytes(source.read_bytes())
    yours = find_model("emnist_cnn.keras", tmp_path / "mine")
    assert yours == tmp_path / "mine" / "emnist_cnn.keras"
    assert describe_source(yours) == f"your model ({yours.resolve()})"


def test_probabilities_of_a_batch(mnist_recognizer: Recognizer, mnist_sample: Dataset) -> None:
    probs = mnist_recognizer.probabilities(mnist_sample.x_test[:7])
    assert probs.shape == (7, 10)
    assert np.allclose(probs.sum(axis=1), 1, atol=1e-4)


def test_prepare_uses_the_models_own_conversion(mnist_recognizer: Recognizer, emnist_recognizer: Recognizer) -> None:
    drawing = render_strokes(SEVEN)
    mnist_view, emnist_view = mnist_recognizer.prepare(drawing), emnist_recognizer.prepare(drawing)
    rows = np.flatnonzero((mnist_view > 64).any(axis=1))
    assert rows[-1] - rows[0] + 1 <= 21  # MNIST: fits 20×20
    rows = np.flatnonzero((emnist_view > 64).any(axis=1))
    assert rows[-1] - rows[0] + 1 >= 22  # EMNIST: fills the frame less 2 px


def test_answers_restricted_to_digits_or_letters(
    emnist_recognizer: Recognizer, emnist_sample: Dataset, mnist_recognizer: Recognizer
) -> None:
    prepared = np.stack([emnist_recognizer.prepare(image) for image in emnist_sample.x_test[:200]])
    classes = np.array(emnist_recognizer.classes)
    digits = np.char.isdigit(classes)
    for allowed, kept in (("digits", digits), ("letters", ~digits)):
        probs = emnist_recognizer.probabilities(prepared, allowed=allowed)
        assert np.allclose(probs.sum(axis=1), 1, atol=1e-5)  # renormalised
        assert (probs[:, ~kept] == 0).all()  # masked classes never appear
        guesses = emnist_recognizer.top_k(emnist_sample.x_test[0], k=10, allowed=allowed)
        assert len(guesses) == 10
        assert all(kept[list(classes).index(char)] for char, _ in guesses)
    unrestricted = emnist_recognizer.probabilities(prepared)
    letters = emnist_recognizer.probabilities(prepared, allowed="letters")
    order = np.argsort(-unrestricted[:, ~digits], axis=1)
    assert np.array_equal(order, np.argsort(-letters[:, ~digits], axis=1))  # the letters keep their order
    with pytest.raises(ValueError, match="has no letters"):
        mnist_recognizer.top_k(emnist_sample.x_test[0], allowed="letters")
    with pytest.raises(ValueError, match="allowed must be"):
        emnist_recognizer.top_k(emnist_sample.x_test[0], allowed="vowels")


def _tiny_model(seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(10)])


def test_saving_over_a_model_keeps_the_earlier_one(tmp_path: Path) -> None:
    path = tmp_path / "mnist_cnn.keras"
    models = [_tiny_model(seed) for seed in (1, 2, 3)]
    for model in models:
        assert save_model(model, path, "mnist", "0123456789") == path
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "mnist_cnn.1.keras",
        "mnist_cnn.1.labels.json",
        "mnist_cnn.2.keras",
        "mnist_cnn.2.labels.json",
        "mnist_cnn.keras",
        "mnist_cnn.labels.json",
    ], "no partial file is left behind"
    for saved, model in zip(("mnist_cnn.1.keras", "mnist_cnn.2.keras", "mnist_cnn.keras"), models, strict=True):
        weights = Recognizer.load(tmp_path / saved).model.get_weights()[0]
        assert np.array_equal(weights, model.get_weights()[0]), f"{saved} holds another model's weights"


def test_a_failed_save_leaves_the_earlier_model_in_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = save_model(_tiny_model(1), tmp_path / "mnist_cnn.keras", "mnist", "0123456789")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def disk_full(self, filepath, *args, **kwargs):
        Path(filepath).write_bytes(b"half a model")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(keras.Model, "save", disk_full)
    with pytest.raises(ModelFileError, match="No space left on device"):
        save_model(_tiny_model(2), path, "mnist", "0123456789")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
