"""Every chapter follows the course's shape: navigation, opening, the Colab cell, one setup cell, closing with
runnable solutions; no stored output, no date, no typed-in result.

These tests read the notebooks without running them (nbval runs them, in quick mode, solutions included).
"""

from __future__ import annotations

import importlib.util
import re
import statistics
from pathlib import Path

import nbformat
import pytest

from hcr_utils.config import PROJECT_ROOT


def _script(name: str, folder: str = "scripts"):
    spec = importlib.util.spec_from_file_location(name, PROJECT_ROOT / folder / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


navigation = _script("add_navigation")
suite_layout = _script("conftest", folder=".")  # how the test processes share the notebooks
solutions = _script("check_solutions")

CHAPTERS = navigation.chapters()
# the before-stop hook's pattern: numbers that would be typed-in results (1,234 / 12.5% / 15 minutes)
TYPED_NUMBER = re.compile(r"\b\d{1,3}(,\d{3})+\b|\b\d+(\.\d+)?\s?%|\b\d+\s(minutes?|min|seconds?|s)\b")
DATE = re.compile(r"\b20\d\d-\d\d-\d\d\b")
RUNTIME = re.compile(r"^\*Runtime: about .+ with the full downloads \(.+ in quick mode\)[.;].*\*$", re.M)
MAX_MARKDOWN_WORDS = 1400
LONG_TRAINING = ("04", "06", "14")  # notebooks whose training takes more than a few minutes on a laptop CPU
CLEAR = "clear them: jupyter nbconvert --clear-output --inplace notebooks/*.ipynb"


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _markdown(notebook: nbformat.NotebookNode) -> list[str]:
    return [cell.source for cell in notebook.cells if cell.cell_type == "markdown"]


def _setup(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    cells = notebook.cells
    at = next(i for i, cell in enumerate(cells) if cell.cell_type == "markdown" and cell.source.startswith("## Setup"))
    assert cells[at + 1].cell_type == "code" and cells[at + 2].cell_type == "markdown", "one setup cell"
    return cells[at + 1]


def test_chapters_are_numbered_in_order() -> None:
    numbers = [int(path.name[:2]) for path in CHAPTERS]
    assert numbers == list(range(1, len(CHAPTERS) + 1))
    assert len(CHAPTERS) >= 14


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.stem)
def test_navigation_and_colab_cell_are_current(path: Path) -> None:
    """First and last cells link the chapters; the title links Colab; the first code cell is the Colab cell."""
    notebook = _read(path)
    titles = [navigation.title(_read(chapter)) for chapter in CHAPTERS]
    expected = navigation.navigation(CHAPTERS, CHAPTERS.index(path), titles)
    for cell in (notebook.cells[0], notebook.cells[-1]):
        assert navigation.TAG in cell.metadata.get("tags", []), "run scripts/add_navigation.py"
        assert cell.source == expected, "run scripts/add_navigation.py"
    address = navigation.repository()
    assert navigation.title_cell(notebook).endswith(f"{navigation.COLAB_LINK}({navigation.colab_url(path, address)})")
    first_code = next(cell for cell in notebook.cells if cell.cell_type == "code")
    assert first_code.source == navigation.colab_cell(notebook, address).source, "run scripts/add_navigation.py"


def test_the_colab_cell_does_nothing_outside_colab() -> None:
    """Run here, where google.colab is not imported, the cell clones and installs nothing."""
    notebook = _read(CHAPTERS[0])
    cell = navigation.colab_cell(notebook, navigation.repository())
    scope: dict = {}
    exec(compile(cell.source, "colab-cell", "exec"), scope)
    assert "subprocess" not in scope and "os" not in scope


def test_contents_page_lists_every_chapter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(navigation, "INDEX", tmp_path / "index.ipynb")
    navigation.write_index(CHAPTERS)
    shipped = _read(PROJECT_ROOT / "notebooks/index.ipynb").cells[0].source
    assert _read(tmp_path / "index.ipynb").cells[0].source == shipped, "run scripts/add_navigation.py"
    for path in CHAPTERS:
        assert f"]({path.name})" in shipped


def test_runtime_lines_name_the_cpu_kinds_they_were_timed_on() -> None:
    from time_notebooks import runtime_line

    fast, typical = {"full_seconds": 600.0, "quick_seconds": 50.0}, {"full_seconds": 1_500.0}
    both = runtime_line("06", {"fast": fast, "typical": typical})
    assert (
        both
        == "about 10 min on a fast laptop CPU and about 25 min on a typical one, with the full downloads (50 s in quick mode)."
    )
    only_fast = runtime_line("06", {"fast": fast})
    assert "not yet timed on a typical one" in only_fast
    for line in (both, only_fast):
        assert RUNTIME.search(f"*Runtime: {line}*"), "the notebooks' runtime-line pattern"
        assert navigation.RUNTIME_PARTS.match(line)["quick"] == "50 s", "the README table's reading of the line"
    assert (
        navigation.RUNTIME_PARTS.match(only_fast)["full"]
        == "10 min on a fast laptop CPU (not yet timed on a typical one)"
    )
    assert runtime_line("01", {"typical": typical}).startswith(
        "about 25 min on a typical laptop CPU, with the full downloads;"
    )


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.stem)
def test_opening(path: Path) -> None:
    """Title with the chapter's number, what you will learn, the runtime line; then one setup cell."""
    notebook = _read(path)
    opening = navigation.title_cell(notebook)
    assert opening.startswith(f"# {path.name[:2]} · ")
    assert "**You will learn**" in opening
    assert RUNTIME.search(opening), "runtime line: written by benchmarks/time_notebooks.py --write"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.stem)
def test_setup_cell_starts_tensorflow_quietly_and_seeds(path: Path) -> None:
    source = _setup(_read(path)).source
    lines = source.splitlines()
    imports = [i for i, line in enumerate(lines) if line.startswith(("import ", "from "))]
    assert lines[imports[0]].startswith("from hcr_utils"), "import hcr_utils first"
    keras_at = [i for i, line in enumerate(lines) if re.match(r"(import|from) (keras|tensorflow)\b", line)]
    if keras_at:
        start = [i for i, line in enumerate(lines) if "runtime.start_tensorflow()" in line]
        assert start and start[0] < keras_at[0], "call runtime.start_tensorflow() before importing keras"
    assert "config.set_seed()" in source


@pytest.mark.parametrize("path", [p for p in CHAPTERS if p.name[:2] in LONG_TRAINING], ids=lambda path: path.stem)
def test_long_trainings_have_the_learners_switches(path: Path) -> None:
    """A quick-mode switch that works from inside the notebook, the shipped model instead, and a time estimate."""
    source = _setup(_read(path)).source
    assert re.search(r"^QUICK = ", source, re.M) and "config.set_quick_mode(QUICK)" in source
    assert re.search(r"^USE_SHIPPED_MODEL = False", source, re.M)
    assert "time_here" in source or "measures this machine" in source, "say how long the training takes here"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.stem)
def test_closing_has_summary_exercises_and_runnable_solutions(path: Path) -> None:
    notebook = _read(path)
    text = "\n".join(_markdown(notebook))
    for heading in ("## Summary", "## Exercises", "## Solutions"):
        assert f"\n{heading}\n" in f"\n{text}\n", heading
    assert "<details>" not in text, "solutions are hidden code cells now, so that they run"
    exercises = text.split("## Exercises", 1)[1].split("## Solutions", 1)[0]
    count = len(re.findall(r"^\d+\. ", exercises, re.M))
    cells = solutions.solution_cells(notebook)
    assert count >= 2, "at least two exercises"
    assert len(cells) >= count, f"{count} exercises but {len(cells)} solution cells"
    assert all(cell.metadata.get("jupyter", {}).get("source_hidden") for cell in cells), "hide the solutions' code"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.stem)
def test_links_point_to_existing_files(path: Path) -> None:
    for source in _markdown(_read(path)):
        for target in re.findall(r"\]\(([^)#]+\.(?:ipynb|md))\)", source):
            if not target.startswith("http"):
                assert (path.parent / target).exists(), target


@pytest.mark.parametrize(
    "path",
    [*CHAPTERS, PROJECT_ROOT / "notebooks/index.ipynb", PROJECT_ROOT / "notebooks/app.ipynb"],
    ids=lambda path: path.stem,
)
def test_no_stored_outputs(path: Path) -> None:
    """A learner reads outputs before running: none is committed, so none contradicts the learner's run."""
    for cell in _read(path).cells:
        if cell.cell_type == "code":
            assert not cell.outputs, f"stored output in: {cell.source.splitlines()[:1]}; {CLEAR}"
            assert cell.execution_count is None, CLEAR


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.stem)
def test_no_dates_and_no_compared_outputs(path: Path) -> None:
    notebook = _read(path)
    for source in _markdown(notebook):
        assert not DATE.search(source), f"a date in a lesson: {DATE.search(source).group(0)}"
    for cell in notebook.cells:
        assert "NBVAL_CHECK_OUTPUT" not in cell.source, "a check that compares stored output: make it an assert"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.stem)
def test_no_results_typed_into_the_text(path: Path) -> None:
    """Sizes, counts and results are printed from the data and the run; only the measured runtime line is typed."""
    for source in _markdown(_read(path)):
        prose = re.sub(r"```.*?```", "", source, flags=re.S)
        for line in prose.splitlines():
            if not line.startswith("*Runtime:"):
                assert not TYPED_NUMBER.search(line), f"typed number in: {line[:120]}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda path: path.stem)
def test_lessons_are_short(path: Path) -> None:
    """At most 1,400 words of markdown (the measured runtime line aside); code cells that do one thing (median
    length at most 8 lines)."""
    notebook = _read(path)
    words = sum(
        len(RUNTIME.sub("", cell.source).split())
        for cell in notebook.cells
        if cell.cell_type == "markdown" and navigation.TAG not in cell.metadata.get("tags", [])
    )
    assert words <= MAX_MARKDOWN_WORDS, f"{words} words of markdown"
    lengths = [
        len(cell.source.splitlines())
        for cell in notebook.cells
        if cell.cell_type == "code" and not {"colab", "solution"} & set(cell.metadata.get("tags", []))
    ]
    assert statistics.median(lengths) <= 8, f"median code cell: {statistics.median(lengths)} lines"


def test_notebooks_that_share_models_run_in_the_courses_order_on_one_process() -> None:
    """Quick mode saves the models notebooks train in my_models/quick and later notebooks read them: every notebook
    that saves or reads one is in one pytest-xdist group (in order), the others read no model, and the test
    command distributes by group (without ``--dist loadgroup`` the cells of one notebook are split apart)."""
    notebooks = sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb"))
    chain = [path for path in notebooks if suite_layout.notebook_group(path) == suite_layout.MODEL_CHAIN]
    code = {path: "\n".join(c.source for c in _read(path).cells if c.cell_type == "code") for path in notebooks}
    savers = [path.stem for path in notebooks if re.search(r"\bsave_(model|reader|fine_tuned)\(", code[path])]
    readers = [path.stem for path in notebooks if "find_model(" in code[path] or "DrawingPad" in code[path]]
    assert {"04_mnist_improve_and_evaluate", "06_emnist_train", "14_train_the_line_reader"} <= set(savers)
    assert {"07_emnist_evaluate", "08_drawings_like_the_data", "app"} <= set(readers)
    assert set(savers) | set(readers) <= {path.stem for path in chain}
    for path in set(notebooks) - set(chain):
        assert suite_layout.notebook_group(path) == path.stem
        assert "my_models" not in code[path] and "keras.saving" not in code[path], path.name
    parallel = re.search(r"^PARALLEL \?= (.+)$", (PROJECT_ROOT / "Makefile").read_text(), re.M)
    assert parallel and "--dist loadgroup" in parallel.group(1)
