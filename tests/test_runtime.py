"""TensorFlow starts without its C++ log lines once hcr_utils is imported, and says where it trains."""

from __future__ import annotations

import subprocess
import sys

from hcr_utils import runtime


def test_importing_hcr_utils_first_keeps_tensorflow_quiet() -> None:
    code = ("import hcr_utils, keras, numpy as np\n"
            "keras.layers.Dense(2)(np.zeros((1, 3), 'float32'))\n"
            "print('done')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "done"
    assert done.stderr == "", done.stderr  # no oneDNN, CUDA or absl lines


def test_tensorflow_alone_is_noisy_so_the_test_above_can_fail() -> None:
    done = subprocess.run([sys.executable, "-c", "import tensorflow as tf; tf.config.list_physical_devices()"],
                          capture_output=True, text=True, check=True)
    assert done.stderr != ""


def test_describe_names_versions_and_device() -> None:
    line = runtime.describe()
    assert line.startswith("TensorFlow ") and "Keras " in line and ("GPU" in line)
