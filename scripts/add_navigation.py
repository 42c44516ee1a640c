"""Give every numbered notebook previous / contents / next links, and write the contents page.

    python scripts/add_navigation.py

The chapters are ``notebooks/NN_*.ipynb`` in file-name order. Each gets a
navigation cell first and last (tagged ``navigation``; rewritten on every run),
and ``notebooks/index.ipynb`` lists them all with the purpose line and the
runtime line of each title cell. Run it after adding or renaming a notebook;
``tests/test_notebooks.py`` fails until you do.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
INDEX = NOTEBOOKS / "index.ipynb"
TAG = "navigation"


def chapters(folder: Path = NOTEBOOKS) -> list[Path]:
    """The numbered notebooks, in reading order."""
    return sorted(folder.glob("[0-9][0-9]_*.ipynb"))


def title_cell(notebook: nbformat.NotebookNode) -> str:
    """The source of the first markdown cell that is not navigation: the title, purpose and runtime."""
    return next(
        cell.source
        for cell in notebook.cells
        if cell.cell_type == "markdown" and TAG not in cell.metadata.get("tags", [])
    )


def title(notebook: nbformat.NotebookNode) -> str:
    """The notebook's '# ' heading, without the hash."""
    return re.search(r"^# (.+)$", title_cell(notebook), re.M).group(1).strip()


def purpose(notebook: nbformat.NotebookNode) -> str:
    """The first paragraph after the heading."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", title_cell(notebook)) if p.strip()]
    return " ".join(paragraphs[1].split()) if len(paragraphs) > 1 else ""


def runtime(notebook: nbformat.NotebookNode) -> str:
    """The runtime line of the title cell ('*Runtime: ...*'), without its stars."""
    found = re.search(r"^\*Runtime:(.+?)\*\s*$", title_cell(notebook), re.M)
    return found.group(1).strip() if found else ""


def navigation(paths: list[Path], i: int, titles: list[str]) -> str:
    """The link line of chapter ``i``."""
    links = []
    if i > 0:
        links.append(f"[← {titles[i - 1]}]({paths[i - 1].name})")
    links.append(f"[Contents]({INDEX.name})")
    if i + 1 < len(paths):
        links.append(f"[{titles[i + 1]} →]({paths[i + 1].name})")
    return " · ".join(links)


def _nav_cell(text: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_markdown_cell(text)
    cell.metadata["tags"] = [TAG]
    return cell


def add_navigation(paths: list[Path]) -> None:
    """Rewrite the first and last navigation cells of every chapter."""
    notebooks = [nbformat.read(path, as_version=4) for path in paths]
    titles = [title(notebook) for notebook in notebooks]
    for i, (path, notebook) in enumerate(zip(paths, notebooks)):
        cells = [cell for cell in notebook.cells if TAG not in cell.metadata.get("tags", [])]
        line = navigation(paths, i, titles)
        head, tail = _nav_cell(line), _nav_cell(line)
        head.id, tail.id = "nav-top", "nav-bottom"
        notebook.cells = [head, *cells, tail]
        nbformat.write(notebook, path)


def write_index(paths: list[Path]) -> None:
    """The contents page: every chapter with its purpose and measured runtime."""
    rows = []
    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        rows.append(f"1. **[{title(notebook)}]({path.name})**: {purpose(notebook)}  \n   *{runtime(notebook)}*")
    text = (
        "# Handwritten character recognition: contents\n\n"
        "Work through the notebooks in order: each one builds on the models and ideas of the ones before.\n"
        "Every notebook runs top to bottom on a laptop CPU (*Kernel → Restart Kernel and Run All Cells*);\n"
        "set `HCR_QUICK=1` before starting Jupyter to run them all in a few minutes on a small sample.\n\n"
        + "\n".join(rows)
    )
    index = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text)])
    index.cells[0].id = "contents"
    index.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    nbformat.write(index, INDEX)


if __name__ == "__main__":
    found = chapters()
    add_navigation(found)
    write_index(found)
    print(f"navigation and contents written for {len(found)} notebooks")
