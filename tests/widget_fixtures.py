"""Fixtures for the preprocessing, inference, widget and browser tests: trained models and real sample images.

A test module uses them with ``pytest_plugins = ["widget_fixtures"]`` (tests/conftest.py is
shared with other work); registered once as a plugin, a session fixture is built once per run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from hcr_utils import config
from hcr_utils.datasets import Dataset, load_emnist, load_mnist
from hcr_utils.inference import SHIPPED_MODELS_DIR, Recognizer, labels_path, save_model
from hcr_utils.widget import MODELS

# Budgets (images) when no trained model is shipped: 8 epochs of the MNIST sample (97%), 4 of EMNIST's.
SAMPLE_IMAGES = {"mnist": 16_000, "emnist": 9_400}


@pytest.fixture(scope="session")
def mnist_sample() -> Dataset:
    """The real MNIST sample shipped in data/sample/mnist."""
    return load_mnist(config.SAMPLE_DIR / "mnist")


@pytest.fixture(scope="session")
def emnist_sample() -> Dataset:
    """The real EMNIST Balanced sample shipped in data/sample/emnist."""
    return load_emnist("balanced", config.SAMPLE_DIR / "emnist")


def _train(dataset: Dataset, style: str, path: Path) -> None:
    from hcr_utils.training import RECIPES, train_recipe

    model, _ = train_recipe(dataset, RECIPES[style].with_images(SAMPLE_IMAGES[style]), verbose=0)
    save_model(model, path, style, dataset.classes)


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory, mnist_sample: Dataset, emnist_sample: Dataset) -> Path:
    """A folder with mnist_cnn.keras and emnist_cnn.keras (and their labels).

    ``HCR_MODELS_DIR`` if set, else the models shipped in saved_models/; a
    model missing there is trained on the shipped sample (about 45 s in all).
    """
    shipped = Path(os.environ.get(config.MODELS_DIR_ENV, SHIPPED_MODELS_DIR))
    folder = tmp_path_factory.mktemp("models")
    for style, mode, dataset in (("mnist", "digits", mnist_sample), ("emnist", "characters", emnist_sample)):
        source, target = shipped / MODELS[mode], folder / MODELS[mode]
        if source.exists() and labels_path(source).exists():
            shutil.copy(source, target)
            shutil.copy(labels_path(source), labels_path(target))
        else:
            _train(dataset, style, target)
    return folder


@pytest.fixture(scope="session")
def mnist_recognizer(models_dir: Path) -> Recognizer:
    """The MNIST model of ``models_dir``, ready for ``top_k``."""
    return Recognizer.load(models_dir / MODELS["digits"])


@pytest.fixture(scope="session")
def emnist_recognizer(models_dir: Path) -> Recognizer:
    """The EMNIST model of ``models_dir``, ready for ``top_k``."""
    return Recognizer.load(models_dir / MODELS["characters"])


def _on_paper(image: np.ndarray, size: tuple[int, int] = (300, 220)) -> np.ndarray:
    """A 28×28 white-on-black character as an RGB 'photo': dark ink on grey-white paper, width×height ``size``."""
    big = np.asarray(Image.fromarray(image).resize((size[1], size[1]), Image.Resampling.BICUBIC), np.float32)
    paper = np.full((size[1], size[0]), 235.0, np.float32)
    left = (size[0] - size[1]) // 2
    paper[:, left : left + size[1]] -= big * (200.0 / 255.0)
    noise = np.random.default_rng(0).normal(0, 4, paper.shape)
    return np.repeat(np.clip(paper + noise, 0, 255).astype(np.uint8)[..., None], 3, axis=2)


@pytest.fixture(scope="session")
def on_paper() -> Callable[..., np.ndarray]:
    """``on_paper(image, size=(300, 220))``: a 28×28 character as an RGB photo of dark ink on paper."""
    return _on_paper
