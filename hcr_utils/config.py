"""One place for paths, environment switches and random seeds.

Every notebook, test and command reads its folders and settings from here, so
changing where data lives (``HCR_DATA_DIR``) or turning on the quick mode
(``HCR_QUICK=1``) needs no edit anywhere else.

Two kinds of folders:

* what ships with the course (the trained models, the word list, the small
  data sample, the course's own measurements) is read from the checkout's
  ``saved_models/``, ``data/words/``, ``data/sample/`` and ``data/measured/``, or,
  once installed with ``pip install``, from the package's own data
  (``hcr_utils/_shipped/``, same layout); it is never written;
* what you make (your models, downloads, figures, your handwriting) goes to the
  course folder: the checkout when the package runs from one, else the current
  folder. ``HCR_MODELS_DIR``, ``HCR_DATA_DIR`` and ``HCR_OUTPUTS_DIR`` choose other folders.
"""

from __future__ import annotations

import os
import random
from importlib import resources
from pathlib import Path

import numpy as np

_PACKAGE = Path(__file__).resolve().parent


def _checkout() -> Path | None:
    """The course checkout this package runs from, or None when it is installed (e.g. in site-packages)."""
    root = _PACKAGE.parent
    return root if (root / "pyproject.toml").is_file() and (root / "saved_models").is_dir() else None


CHECKOUT = _checkout()
PROJECT_ROOT = CHECKOUT or Path.cwd()  # the course folder: what you make is written under it


def _shipped(folder: str) -> Path:
    """A shipped folder: ``folder`` of the checkout, or the same folder in the installed package's data."""
    return CHECKOUT / folder if CHECKOUT else Path(str(resources.files(__package__) / "_shipped" / folder))


SHIPPED_MODELS_DIR = _shipped("saved_models")  # the trained models that ship with the course (read only)
WORDS_DIR = _shipped("data/words")  # the shipped English word lists
SAMPLE_DIR = _shipped("data/sample")  # the small MNIST/EMNIST sample for quick mode and the tests
MEASURED_DIR = _shipped("data/measured")  # the course's own measurements that notebooks plot (budget curves)
SEED = 42

QUICK_ENV = "HCR_QUICK"
DATA_DIR_ENV = "HCR_DATA_DIR"
MODELS_DIR_ENV = "HCR_MODELS_DIR"
OUTPUTS_DIR_ENV = "HCR_OUTPUTS_DIR"


def quick_mode() -> bool:
    """True when ``HCR_QUICK`` is set to 1/true/yes: small shipped sample, few epochs."""
    return os.environ.get(QUICK_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def set_quick_mode(quick: bool | None) -> None:
    """Turn quick mode on (True) or off (False) for this process, or leave ``HCR_QUICK`` as it is (None).

    A notebook's setup cell calls it with its ``QUICK`` switch, so the switch works
    from inside the notebook; everything that asks :func:`quick_mode` later follows it.
    """
    if quick is not None:
        os.environ[QUICK_ENV] = "1" if quick else "0"


def data_root() -> Path:
    """Folder that holds one sub-folder per dataset (``mnist/``, ``emnist/``).

    ``HCR_DATA_DIR`` wins; in quick mode it is the shipped ``data/sample``;
    otherwise ``data/`` in the project.
    """
    if os.environ.get(DATA_DIR_ENV):
        return Path(os.environ[DATA_DIR_ENV]).expanduser()
    return SAMPLE_DIR if quick_mode() else PROJECT_ROOT / "data"


def models_dir() -> Path:
    """Where the models you train are saved: ``my_models/`` in the course folder (git-ignored).

    ``HCR_MODELS_DIR`` wins; quick mode uses ``my_models/quick`` so that a test
    run never overwrites a model you trained in full. The models shipped with
    the course live apart (:data:`SHIPPED_MODELS_DIR`) and are never written.
    """
    if os.environ.get(MODELS_DIR_ENV):
        return Path(os.environ[MODELS_DIR_ENV]).expanduser()
    return PROJECT_ROOT / "my_models" / ("quick" if quick_mode() else "")


def outputs_dir() -> Path:
    """Where figures, screenshots and reports are written (``outputs/``)."""
    path = Path(os.environ.get(OUTPUTS_DIR_ENV, PROJECT_ROOT / "outputs")).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def full_or_quick(full: int, quick: int) -> int:
    """A size for the normal run (``full``) or for quick mode (``quick``): epochs, images, copies."""
    return quick if quick_mode() else full


def set_seed(seed: int = SEED) -> None:
    """Seed Python, NumPy and Keras (TensorFlow) so runs repeat."""
    random.seed(seed)
    np.random.seed(seed)
    import keras  # imported here: seeding numpy must not pay for TensorFlow

    keras.utils.set_random_seed(seed)
