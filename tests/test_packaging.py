"""hcr_utils as a library: a plain (non-editable) install works from any folder, and the shipped models load with Keras."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from hcr_utils.config import CHECKOUT, SAMPLE_DIR
from hcr_utils.datasets import load_emnist
from hcr_utils.saved import read_labels

pytestmark = pytest.mark.slow

SHIPPED = sorted((CHECKOUT / "saved_models").glob("*.keras")) if CHECKOUT else []
# What the package needs to build: the rest of the checkout (notebooks, docs, tests) is left behind.
SOURCES = [
    "pyproject.toml",
    "README.md",
    "LICENSE",
    "hcr_utils",
    "saved_models",
    "data/words",
    "data/sample",
    "data/measured",
]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pip install --no-deps --target``: the package as a wheel installs it, its dependencies from this environment."""
    assert CHECKOUT is not None, "these tests run from the checkout"
    source, target = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("site-packages")
    for name in SOURCES:
        copy = shutil.copytree if (CHECKOUT / name).is_dir() else shutil.copy2
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        copy(
            CHECKOUT / name,
            source / name,
            **({"ignore": shutil.ignore_patterns("__pycache__")} if (CHECKOUT / name).is_dir() else {}),
        )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(source),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return target


def run_installed(installed: Path, folder: Path, *args: str) -> subprocess.CompletedProcess:
    """Run Python in ``folder`` with the installed package first on the path (never the checkout's)."""
    env = {"PYTHONPATH": str(installed), "PATH": "/usr/bin:/bin", "HOME": str(folder)}
    return subprocess.run([sys.executable, *args], cwd=folder, env=env, capture_output=True, text=True, timeout=240)


@pytest.fixture(scope="module")
def picture(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A real EMNIST test character as a scan (dark ink on white), and its class."""
    data = load_emnist("balanced", SAMPLE_DIR / "emnist")
    folder = tmp_path_factory.mktemp("elsewhere")
    index = int(np.flatnonzero(data.y_test == data.classes.index("7"))[0])
    Image.fromarray(255 - data.x_test[index]).resize((112, 112)).save(folder / "seven.png")
    return folder / "seven.png", "7"


def test_the_installed_package_finds_its_shipped_files_and_writes_in_the_current_folder(
    installed: Path, picture: tuple[Path, str]
) -> None:
    folder = picture[0].parent
    code = (
        "from hcr_utils import config\nfrom hcr_utils.words import word_list\n"
        "print(config.SHIPPED_MODELS_DIR)\nprint(config.models_dir())\nprint(config.CHECKOUT)\n"
        "from hcr_utils.training import measured_budget_curve\n"
        "print(len(word_list('all')) > 1000, (config.SAMPLE_DIR / 'emnist').is_dir(), "
        "min(len(measured_budget_curve(name).budgets) for name in ('emnist', 'words')) > 2)"
    )
    done = run_installed(installed, folder, "-c", code)
    assert done.returncode == 0, done.stderr
    shipped, models, checkout, found = done.stdout.splitlines()
    assert Path(shipped) == installed / "hcr_utils" / "_shipped" / "saved_models"
    assert Path(models) == folder / "my_models"  # the course folder, never site-packages
    assert checkout == "None"
    assert found == "True True True"


def test_hcr_predict_reads_a_picture_with_the_shipped_model_by_name(installed: Path, picture: tuple[Path, str]) -> None:
    path, char = picture
    done = run_installed(installed, path.parent, "-m", "hcr_utils", "predict", "emnist_cnn", path.name)
    assert done.returncode == 0, done.stderr
    name, guesses = done.stdout.strip().split("\t")
    assert name == path.name
    assert guesses.split()[0] == char


def test_the_installed_command_is_hcr(installed: Path, picture: tuple[Path, str]) -> None:
    done = run_installed(installed, picture[0].parent, str(installed / "bin" / "hcr"), "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: hcr ")


def test_recognizer_reads_a_picture_with_the_installed_shipped_model(
    installed: Path, picture: tuple[Path, str]
) -> None:
    path, char = picture
    code = (
        "import numpy as np\nfrom PIL import Image\nfrom hcr_utils import runtime\nruntime.start_tensorflow()\n"
        "from hcr_utils.inference import Recognizer, find_model\n"
        f"recognizer = Recognizer.load(find_model('emnist_cnn'))\n"
        f"print(recognizer.top_k(np.asarray(Image.open('{path.name}')), k=1)[0][0])"
    )
    done = run_installed(installed, path.parent, "-c", code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == char


@pytest.mark.parametrize("model", SHIPPED, ids=lambda path: path.stem)
def test_each_shipped_model_loads_with_plain_keras_in_a_fresh_interpreter(model: Path) -> None:
    """The one line the README shows: ``import hcr_utils.models`` registers the custom layers, then plain Keras."""
    code = (
        "import hcr_utils.models, keras\n"
        f"model = keras.saving.load_model({str(model)!r})\n"
        "print(model.output_shape[-1])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=240)
    labels = read_labels(model)
    blank = 1 if labels["kind"] == "words" else 0  # a line reader's outputs are the CTC blank and the classes
    assert int(done.stdout.split()[-1]) == len(labels["classes"]) + blank
