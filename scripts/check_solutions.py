"""Run notebooks with their exercise solutions and say, solution by solution, whether each one runs.

    HCR_QUICK=1 python scripts/check_solutions.py [notebooks/04_*.ipynb ...]

A solution is a code cell tagged ``solution`` (its source hidden until the learner
opens it) under the notebook's ``## Solutions`` heading. Solutions run with their
notebook, so ``make test`` (nbval, quick mode) already fails when one breaks; this
script names each one and its outcome. Exits with 1 if any notebook or solution failed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
TAG = "solution"


def solution_cells(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    """The solution cells, in order."""
    return [cell for cell in notebook.cells if cell.cell_type == "code" and TAG in cell.metadata.get("tags", [])]


def _error(cell: nbformat.NotebookNode) -> str:
    errors = [out for out in cell.get("outputs", []) if out.output_type == "error"]
    return f"{errors[0].ename}: {errors[0].evalue}" if errors else ""


def check(path: Path) -> bool:
    """Run the notebook top to bottom; print the outcome of each solution."""
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook,
        timeout=900,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    solutions = solution_cells(notebook)
    broken = [cell for cell in notebook.cells if cell.cell_type == "code" and cell not in solutions and _error(cell)]
    if broken:
        print(f"{path.name}: the notebook itself fails in: {broken[0].source.splitlines()[0]} ({_error(broken[0])})")
        return False
    for number, cell in enumerate(solutions, start=1):
        print(f"{path.name} solution {number}: " + (f"FAILS {_error(cell)}" if _error(cell) else "runs"))
    return bool(solutions) and not any(_error(cell) for cell in solutions)


if __name__ == "__main__":
    paths = [Path(arg) for arg in sys.argv[1:]] or sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    results = [check(path) for path in paths]
    sys.exit(0 if all(results) else 1)
