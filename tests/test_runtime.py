"""Importing hcr_utils starts nothing; runtime.start_tensorflow() starts TensorFlow without its C++ log lines."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from hcr_utils import runtime

LIGHT_MODULES = [
    "hcr_utils",
    "hcr_utils.config",
    "hcr_utils.cli",
    "hcr_utils.errors",
    "hcr_utils.preprocessing",
    "hcr_utils.samples",
    "hcr_utils.datasets",
]


@pytest.mark.slow
@pytest.mark.parametrize("module", LIGHT_MODULES)
def test_importing_a_module_starts_no_tensorflow(module: str) -> None:
    code = f"import sys, {module}; print(sorted(name for name in ('tensorflow', 'keras') if name in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.slow
def test_the_command_lines_help_starts_no_tensorflow() -> None:
    code = (
        "import sys\nfrom hcr_utils import cli\ntry:\n    cli.main(['predict', '--help'])\n"
        "except SystemExit as done:\n    print(done.code, 'tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[-1] == "0 False False"
    assert "a model's name" in done.stdout


@pytest.mark.slow
def test_start_tensorflow_keeps_it_quiet() -> None:
    code = (
        "from hcr_utils import runtime\nruntime.start_tensorflow()\nimport keras, numpy as np\n"
        "keras.layers.Dense(2)(np.zeros((1, 3), 'float32'))\n"
        "print('done')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "done"
    assert done.stderr == "", done.stderr  # no oneDNN, CUDA or absl lines


@pytest.mark.slow
def test_tensorflow_alone_is_noisy_so_the_test_above_can_fail() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import tensorflow as tf; tf.config.list_physical_devices()"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stderr != ""


def test_describe_names_versions_and_device() -> None:
    import keras
    import tensorflow as tf

    line = runtime.describe()
    assert line.startswith(f"TensorFlow {tf.__version__}, Keras {keras.__version__}; ")
    gpus = tf.config.list_physical_devices("GPU")
    assert line.endswith(f"{len(gpus)} GPU(s) found" if gpus else f"training runs on the CPU ({os.cpu_count()} cores)")
