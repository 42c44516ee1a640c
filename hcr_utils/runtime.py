"""Start TensorFlow without its start-up log lines, and say what it runs on."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def native_stderr_hidden() -> Iterator[None]:
    """Send file descriptor 2 to the null device: TensorFlow's C++ start-up lines bypass Python's sys.stderr."""
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def start_tensorflow() -> None:
    """Import TensorFlow and look for devices with its log lines hidden (they would fill a learner's first cell).

    TensorFlow's own Python warnings are limited to errors too; Keras' warnings still show.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with native_stderr_hidden():
        import tensorflow as tf

        tf.config.list_physical_devices()
    tf.get_logger().setLevel("ERROR")  # e.g. retracing notes when several models predict in turn


def describe() -> str:
    """One line: the versions in use and whether training runs on a GPU or the CPU."""
    import keras
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    where = f"{len(gpus)} GPU(s) found" if gpus else f"no GPU found: training runs on the CPU ({os.cpu_count()} cores)"
    return f"TensorFlow {tf.__version__}, Keras {keras.__version__}; {where}"
