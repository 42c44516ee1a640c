"""Run every exercise solution of the notebooks, in quick mode, after its notebook: can each one actually be done?

    HCR_QUICK=1 python scripts/check_solutions.py [notebooks/03_*.ipynb ...]

Solutions live in ``<details>`` blocks (hidden from the learner until opened),
as fenced Python code. Each notebook runs top to bottom in a fresh kernel, then
each of its solutions runs as one more cell; the script prints one line per
solution and exits with 1 if any failed. A solution whose code says
``needs the full download`` in a comment is skipped: the shipped sample does not hold that data.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
SOLUTION = re.compile(r"<details><summary>Solution (\d+)</summary>(.*?)</details>", re.S)
SKIP = "needs the full download"


def solutions(notebook: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """(number, code) of every solution with code, in order."""
    found = []
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for number, body in SOLUTION.findall(cell.source):
                code = "\n".join(re.findall(r"```python\n(.*?)```", body, re.S))
                if code:
                    found.append((number, code))
    return found


def check(path: Path) -> bool:
    """Run the notebook, then each solution; print the outcome of each."""
    notebook = nbformat.read(path, as_version=4)
    cases = solutions(notebook)
    runnable = [(number, code) for number, code in cases if SKIP not in code]
    first = len(notebook.cells)
    notebook.cells += [nbformat.v4.new_code_cell(code) for _, code in runnable]
    client = NotebookClient(
        notebook,
        timeout=900,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    failed = [
        cell for cell in notebook.cells[:first] if any(out.output_type == "error" for out in cell.get("outputs", []))
    ]
    if failed:
        print(f"{path.name}: the notebook itself fails in: {failed[0].source.splitlines()[0]}")
        return False
    ok = True
    for (number, _), cell in zip(runnable, notebook.cells[first:]):
        errors = [out for out in cell.outputs if out.output_type == "error"]
        ok &= not errors
        print(
            f"{path.name} solution {number}: " + (f"FAILS {errors[0].ename}: {errors[0].evalue}" if errors else "runs")
        )
    for number, code in cases:
        if SKIP in code:
            print(f"{path.name} solution {number}: skipped ({SKIP})")
    return ok


if __name__ == "__main__":
    paths = [Path(arg) for arg in sys.argv[1:]] or sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    results = [check(path) for path in paths]
    sys.exit(0 if all(results) else 1)
