"""Run notebooks in quick mode and store the outputs of their ``# NBVAL_CHECK_OUTPUT`` cells only.

    HCR_QUICK=1 python scripts/store_checked_outputs.py notebooks/*.ipynb

``pytest --nbval-lax`` compares exactly those cells with the stored outputs,
so they must hold text that is the same on every run and in both modes. All
other outputs and execution counts are removed, keeping the notebooks small
and their diffs readable (checked cells keep their execution count: nbval needs it).
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

MARK = "# NBVAL_CHECK_OUTPUT"


def store(path: Path) -> None:
    """Execute ``path`` from its folder and keep only the checked cells' outputs."""
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    notebook.metadata.pop("widgets", None)  # widget state saved by the run
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)  # timestamps of the run
        if cell.cell_type != "code" or MARK in cell.source:
            continue  # checked cells keep outputs and execution count (nbval calls a cell without one unrun)
        cell.execution_count = None
        cell.outputs = []
    nbformat.write(notebook, path)


if __name__ == "__main__":
    for name in sys.argv[1:]:
        store(Path(name))
        print("stored checked outputs of", name)
