"""Runs the tests on two processes (pytest-xdist, ``-n 2 --dist loadgroup`` in the Makefile).

Quick mode writes the models that notebooks train to ``my_models/quick``, and later notebooks read them, so
every notebook that trains, saves or reads a model runs on one process, in the course's order. The others
(they only read data) each run whole on whichever process is free.
"""

from __future__ import annotations

from pathlib import Path

import pytest

MODEL_NAMES = ("find_model", "save_model", "models_dir", "DrawingPad", "Recognizer", "SHIPPED_MODELS_DIR")
MODEL_CHAIN = "notebooks that train or read models"


def notebook_group(path: Path) -> str:
    """The xdist group of a notebook: the model chain if it touches a model, else its own."""
    text = path.read_text(encoding="utf-8")
    return MODEL_CHAIN if any(name in text for name in MODEL_NAMES) else path.stem


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    groups: dict[Path, str] = {}
    for item in items:
        if item.path.suffix == ".ipynb":
            group = groups.setdefault(item.path, notebook_group(item.path))
            item.add_marker(pytest.mark.xdist_group(group))
