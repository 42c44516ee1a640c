"""Give every numbered notebook previous / contents / next links and its Colab cell, and write the contents page.

    python scripts/add_navigation.py

The chapters are ``notebooks/NN_*.ipynb`` in file-name order. Each gets a
navigation cell first and last (tagged ``navigation``), an "Open in Colab" link
at the end of its title cell, and a first code cell (tagged ``colab``) that
installs the course's helpers when it runs inside Google Colab and does nothing
anywhere else; all are rewritten on every run. The repository that Colab opens
and clones is the one address in ``pyproject.toml`` (``[project.urls]
Repository``): a copy of the course changes it there and runs this script.
``notebooks/index.ipynb`` lists the chapters with the purpose line and the
runtime line of each title cell, and the README's runtime table is made from
the same lines. Run it after adding or renaming a notebook;
``tests/test_notebooks.py`` fails until you do.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
INDEX = NOTEBOOKS / "index.ipynb"
README = ROOT / "README.md"
README_START, README_END = "<!-- notebook runtimes: start -->", "<!-- notebook runtimes: end -->"
RUNTIME_PARTS = re.compile(r"^about (?P<full>.+?),? with the full downloads \((?P<quick>.+?) in quick mode\)")
TAG = "navigation"
COLAB_TAG = "colab"
COLAB_LINK = "[Open in Colab]"
WIDGETS = ("DrawingPad(", "WordPad(")  # a notebook that shows one needs Colab's custom widget manager
COLAB_CELL = """\
# In Google Colab only (this cell does nothing anywhere else): fetch the course and install its helpers.
import sys

if "google.colab" in sys.modules:
    import os
    import subprocess

    if not os.path.isdir("/content/hcr"):
        subprocess.run(["git", "clone", "--depth", "1", "{repository}", "/content/hcr"], check=True)
    # the helpers without their pinned dependencies: Colab's own TensorFlow and Keras stay
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "-e", "/content/hcr",
                    "ipycanvas~=0.14.3", "ai-edge-litert==2.3.0", "backports.strenum~=1.2.8"], check=True)
    sys.path.insert(0, "/content/hcr")  # this kernel started before the install
    os.chdir("/content/hcr/notebooks")
"""
COLAB_WIDGETS = """\
    from google.colab import output

    output.enable_custom_widget_manager()  # Colab shows the pad only with its custom widget manager
"""


def repository() -> str:
    """The course's repository address, from pyproject.toml."""
    with (ROOT / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)["project"]["urls"]["Repository"].rstrip("/")


def colab_url(path: Path, address: str) -> str:
    """The address that opens ``path`` from the course's GitHub repository in Colab."""
    return (
        f"https://colab.research.google.com/github/{address.split('github.com/', 1)[1]}/blob/main/notebooks/{path.name}"
    )


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


def colab_cell(notebook: nbformat.NotebookNode, address: str) -> nbformat.NotebookNode:
    """The guarded Colab cell for ``notebook`` (with the widget manager where it shows a pad)."""
    source = COLAB_CELL.format(repository=address)
    if any(widget in cell.source for cell in notebook.cells if cell.cell_type == "code" for widget in WIDGETS):
        source += COLAB_WIDGETS
    cell = nbformat.v4.new_code_cell(source.rstrip("\n"))
    cell.id, cell.metadata["tags"] = "colab", [COLAB_TAG]
    return cell


def _with_colab_link(source: str, url: str) -> str:
    lines = [line for line in source.rstrip("\n").splitlines() if not line.startswith(COLAB_LINK)]
    return "\n".join(lines).rstrip("\n") + f"\n\n{COLAB_LINK}({url})"


def add_navigation(paths: list[Path]) -> None:
    """Rewrite the navigation cells, the Colab link and the Colab cell of every chapter."""
    notebooks = [nbformat.read(path, as_version=4) for path in paths]
    titles = [title(notebook) for notebook in notebooks]
    address = repository()
    for i, (path, notebook) in enumerate(zip(paths, notebooks)):
        cells = [
            cell
            for cell in notebook.cells
            if not {TAG, COLAB_TAG} & set(cell.metadata.get("tags", []))
            and not (cell.cell_type == "code" and '"google.colab" in sys.modules' in cell.source)
        ]
        opening = next(cell for cell in cells if cell.cell_type == "markdown")
        opening.source = _with_colab_link(opening.source, colab_url(path, address))
        line = navigation(paths, i, titles)
        head, tail = _nav_cell(line), _nav_cell(line)
        head.id, tail.id = "nav-top", "nav-bottom"
        at = cells.index(opening) + 1
        notebook.cells = [head, *cells[:at], colab_cell(notebook, address), *cells[at:], tail]
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
        "Every notebook runs top to bottom on a laptop CPU (*Kernel → Restart Kernel and Run All Cells*).\n"
        "To run one in seconds on a small real sample, set `QUICK = True` in its setup cell (or `HCR_QUICK=1`\n"
        "before starting Jupyter, for all of them). The runtimes are for the full downloads, on a fast laptop CPU\n"
        "(with AVX-512) and on a typical one, where measured; each long training measures your machine first.\n\n"
        + "\n".join(rows)
    )
    index = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text)])
    index.cells[0].id = "contents"
    index.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    nbformat.write(index, INDEX)


def runtime_table(paths: list[Path]) -> str:
    """The README's table of runtimes, from each chapter's runtime line."""
    rows = ["| notebook | with the full downloads | quick mode |", "| --- | --- | --- |"]
    for path in paths:
        parts = RUNTIME_PARTS.match(runtime(nbformat.read(path, as_version=4)))
        full, quick = (parts["full"], parts["quick"]) if parts else ("", "")
        rows.append(f"| [`{path.stem}`](notebooks/{path.name}) | {full} | {quick} |")
    return "\n".join(rows)


def write_readme_table(paths: list[Path]) -> None:
    """Put the runtime table between the README's markers."""
    text = README.read_text()
    if README_START in text and README_END in text:
        head, rest = text.split(README_START, 1)
        README.write_text(f"{head}{README_START}\n{runtime_table(paths)}\n{README_END}{rest.split(README_END, 1)[1]}")


if __name__ == "__main__":
    found = chapters()
    add_navigation(found)
    write_index(found)
    write_readme_table(found)
    print(f"navigation and contents written for {len(found)} notebooks")
