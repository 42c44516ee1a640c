"""Every chapter follows the course's shape: navigation, opening, one setup cell, closing, checked outputs.

These tests read the notebooks without running them (nbval runs them, in quick mode).
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import nbformat
import pytest

from hcr_utils.config import PROJECT_ROOT

_spec = importlib.util.spec_from_file_location("add_navigation", PROJECT_ROOT / "scripts" / "add_navigation.py")
navigation = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(navigation)

CHAPTERS = navigation.chapters()
# the before-stop hook's pattern: numbers that would be typed-in results (1,234 / 12.5% / 15 minutes)
TYPED_NUMBER = re.compile(r"\b\d{1,3}(,\d{3})+\b|\b\d+(\.\d+)?\s?%|\b\d+\s(minutes?|min|seconds?|s)\b")
CHECK_MARK = "# NBVAL_CHECK_OUTPUT"


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _markdown(notebook: nbformat.NotebookNode) -> list[str]:
    return [cell.source for cell in notebook.cells if cell.cell_type == "markdown"]


def test_chapters_are_numbered_in_order() -> None:
    numbers = [int(path.name[:2]) for path in CHAPTERS]
    assert numbers == list(range(1, len(CHAPTERS) + 1)) and len(CHAPTERS) >= 7


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.stem)
def test_navigation_is_current(path: Path) -> None:
    """First and last cells link to the previous chapter, the contents and the next one (scripts/add_navigation.py)."""
    notebook = _read(path)
    titles = [navigation.title(_read(chapter)) for chapter in CHAPTERS]
    expected = navigation.navigation(CHAPTERS, CHAPTERS.index(path), titles)
    for cell in (notebook.cells[0], notebook.cells[-1]):
        assert navigation.TAG in cell.metadata.get("tags", []), "run scripts/add_navigation.py"
        assert cell.source == expected, "run scripts/add_navigation.py"


def test_contents_page_lists_every_chapter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(navigation, "INDEX", tmp_path / "index.ipynb")
    navigation.write_index(CHAPTERS)
    assert (
        _read(tmp_path / "index.ipynb").cells[0].source == _read(PROJECT_ROOT / "notebooks/index.ipynb").cells[0].source
    )
    for path in CHAPTERS:
        assert f"]({path.name})" in _read(PROJECT_ROOT / "notebooks/index.ipynb").cells[0].source


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.stem)
def test_opening(path: Path) -> None:
    """Title with the chapter's number, what you will learn, the measured runtime; then one setup cell."""
    notebook = _read(path)
    opening = navigation.title_cell(notebook)
    assert opening.startswith(f"# {path.name[:2]} · ")
    assert "**You will learn**" in opening and navigation.runtime(notebook)
    cells = notebook.cells
    setup = next(
        i for i, cell in enumerate(cells) if cell.cell_type == "markdown" and cell.source.startswith("## Setup")
    )
    assert cells[setup + 1].cell_type == "code" and cells[setup + 2].cell_type == "markdown", "one setup cell"
    imports = [line for line in cells[setup + 1].source.splitlines() if line.startswith(("import ", "from "))]
    assert imports[0].startswith("from hcr_utils"), "import hcr_utils first: it starts TensorFlow quietly"
    assert "config.set_seed()" in cells[setup + 1].source


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.stem)
def test_closing_has_summary_exercises_with_solutions_and_what_next(path: Path) -> None:
    text = "\n".join(_markdown(_read(path)))
    for heading in ("## Summary", "## Exercises", "## Where to go next"):
        assert f"\n{heading}\n" in f"\n{text}\n", heading
    exercises = text.split("## Exercises", 1)[1].split("<details>", 1)[0]
    count = len(re.findall(r"^\d+\. ", exercises, re.M))
    solutions = re.findall(r"<details><summary>Solution (\d+)</summary>", text)
    assert count >= 2 and solutions == [str(n) for n in range(1, count + 1)]


@pytest.mark.parametrize("path", [*CHAPTERS, PROJECT_ROOT / "notebooks/index.ipynb"], ids=lambda path: path.stem)
def test_links_point_to_existing_files(path: Path) -> None:
    for source in _markdown(_read(path)):
        for target in re.findall(r"\]\(([^)#]+\.ipynb)\)", source):
            assert (path.parent / target).exists(), target


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.stem)
def test_no_results_typed_into_the_text(path: Path) -> None:
    """Sizes, counts and results are printed from the data and the run; only the measured runtime line is typed."""
    for source in _markdown(_read(path)):
        prose = re.sub(r"```.*?```", "", source, flags=re.S)  # code in solutions formats numbers, it does not type them
        for line in prose.splitlines():
            if not line.startswith("*Runtime:"):
                assert not TYPED_NUMBER.search(line), f"typed number in: {line[:120]}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.stem)
def test_a_checked_output_holds_a_number_from_the_data(path: Path) -> None:
    """nbval compares these cells' stored output (from quick mode), so text that drifts from the data fails."""
    checked = [cell for cell in _read(path).cells if cell.cell_type == "code" and CHECK_MARK in cell.source]
    stored = "".join(output.get("text", "") for cell in checked for output in cell.outputs)
    assert re.search(r"\d", stored), "store the outputs: HCR_QUICK=1 python scripts/store_checked_outputs.py"
