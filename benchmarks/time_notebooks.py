"""Time every notebook in full mode on data laid out like a learner's downloads, at their real size.

    python benchmarks/time_notebooks.py --data ../shared/data [--only 04 06] [--write] > times.jsonl
    python benchmarks/time_notebooks.py --results times.jsonl --write   # write finished runs' times

The development images are repeated (MNIST) or drawn with replacement per class
(EMNIST Balanced: 2,400 of every class for training, 400 for testing) up to the
official counts, and ByMerge's training labels are drawn from the development
labels' frequencies up to its count: only the timing is real then, not the
accuracy. Each notebook runs top to bottom in a fresh kernel with its models
saved to a temporary folder, in order (07 and the later notebooks read what 04 and 06 saved);
quick mode (``HCR_QUICK=1``) is timed too. Prints one JSON line per notebook;
``--write`` puts the measured times into each notebook's runtime line, the
contents page and the README's table.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import numpy as np
from nbclient import NotebookClient

from hcr_utils.config import DATA_DIR_ENV, MODELS_DIR_ENV, PROJECT_ROOT, QUICK_ENV, SEED
from hcr_utils.datasets import emnist_files, load_emnist, mnist_files
from hcr_utils.idx import read_idx, read_images_and_labels, write_idx

NOTEBOOKS = PROJECT_ROOT / "notebooks"
README = PROJECT_ROOT / "README.md"
MNIST_SIZES = {"train": 60_000, "test": 10_000}
EMNIST_PER_CLASS = {"train": 2_400, "test": 400}
BYMERGE_TRAIN = 697_932
DOWNLOADS = {
    "01": "the first run also downloads MNIST (11 MB)",
    "05": "the first run also downloads NIST's EMNIST archive (536 MB)",
}
README_START, README_END = "<!-- notebook runtimes: start -->", "<!-- notebook runtimes: end -->"


def full_size_data(dev: Path, folder: Path) -> Path:
    """Write MNIST and EMNIST files at the official sizes into ``folder`` (``mnist/``, ``emnist/``)."""
    rng = np.random.default_rng(SEED)
    (folder / "mnist").mkdir(parents=True, exist_ok=True)
    files = mnist_files()
    for part, size in MNIST_SIZES.items():
        images, labels = read_images_and_labels(
            dev / "mnist-dev" / files[f"{part}_images"], dev / "mnist-dev" / files[f"{part}_labels"]
        )
        pick = np.resize(np.arange(len(labels)), size)
        write_idx(folder / "mnist" / files[f"{part}_images"], images[pick])
        write_idx(folder / "mnist" / files[f"{part}_labels"], labels[pick])
    (folder / "emnist").mkdir(parents=True, exist_ok=True)
    files, source = emnist_files("balanced"), dev / "emnist-dev"
    for part, per_class in EMNIST_PER_CLASS.items():
        images, labels = read_images_and_labels(source / files[f"{part}_images"], source / files[f"{part}_labels"])
        pick = np.concatenate([rng.choice(np.flatnonzero(labels == c), per_class) for c in np.unique(labels)])
        pick = rng.permutation(pick)
        write_idx(folder / "emnist" / files[f"{part}_images"], images[pick])  # stored transposed, as NIST does
        write_idx(folder / "emnist" / files[f"{part}_labels"], labels[pick])
    shutil.copyfile(source / files["mapping"], folder / "emnist" / files["mapping"])
    bymerge = emnist_files("bymerge")
    labels = read_idx(source / files["train_labels"], 1)
    write_idx(folder / "emnist" / bymerge["train_labels"], rng.choice(labels, BYMERGE_TRAIN).astype(np.uint8))
    shutil.copyfile(source / files["mapping"], folder / "emnist" / bymerge["mapping"])
    return folder


def machine_speed() -> float:
    """Images per second of the EMNIST recipe's training on this machine now (12,800 images after a warm-up)."""
    code = (
        "import hcr_utils, time, numpy as np\n"
        "from hcr_utils.models import build_cnn\nfrom hcr_utils.training import RECIPES, fit\n"
        "r = RECIPES['emnist']; x = np.random.default_rng(0).integers(0, 255, (12800, 28, 28)).astype('uint8')\n"
        "y = np.arange(12800) % 47\n"
        "fit(build_cnn(47, **r.model), x[:1280], y[:1280], r.with_images(1280), verbose=0)\n"
        "t = time.perf_counter(); fit(build_cnn(47, **r.model), x, y, r.with_images(12800), verbose=0)\n"
        "print(12800 / (time.perf_counter() - t))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def run(path: Path, env: dict[str, str]) -> tuple[float, list[tuple[float, str]]]:
    """Execute a notebook in a fresh kernel with ``env`` set; the wall time and the slowest cells."""
    saved = {key: os.environ.get(key) for key in (DATA_DIR_ENV, MODELS_DIR_ENV, QUICK_ENV)}
    os.environ.update(env)
    for key in (DATA_DIR_ENV, MODELS_DIR_ENV, QUICK_ENV):
        if key not in env:
            os.environ.pop(key, None)
    try:
        notebook = nbformat.read(path, as_version=4)
        client = NotebookClient(
            notebook,
            timeout=3600,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
            record_timing=True,
        )
        start = time.perf_counter()
        client.execute()
        seconds = time.perf_counter() - start
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    cells = []
    for cell in notebook.cells:
        timing = cell.get("metadata", {}).get("execution", {})
        if cell.cell_type == "code" and "iopub.execute_input" in timing and "shell.execute_reply" in timing:
            began = datetime.datetime.fromisoformat(timing["iopub.execute_input"].replace("Z", "+00:00"))
            ended = datetime.datetime.fromisoformat(timing["shell.execute_reply"].replace("Z", "+00:00"))
            cells.append(((ended - began).total_seconds(), cell.source.splitlines()[0][:60]))
    return seconds, sorted(cells, reverse=True)[:3]


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 90 else f"{seconds:.0f} s"


def runtime_line(number: str, full: float, quick: float | None, speed: float, day: str) -> str:
    """The runtime sentence of one notebook."""
    text = (
        f"{_minutes(full)} on a 2-core laptop CPU with the full downloads (measured {day}, "
        f"on a day this CPU trained the EMNIST recipe at {speed:,.0f} images/s)"
    )
    if quick is not None:
        text += f"; {_minutes(quick)} in quick mode (`HCR_QUICK=1`)"
    if number in DOWNLOADS:
        text += f"; {DOWNLOADS[number]}"
    return text + "."


def write_runtimes(results: dict[str, dict], day: str) -> None:
    """Put the measured times into the notebooks' runtime lines, the contents page and the README's table."""
    rows = []
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        number = path.name[:2]
        if number not in results:
            continue
        result = results[number]
        line = runtime_line(
            number, result["full_seconds"], result.get("quick_seconds"), result["images_per_second"], day
        )
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "markdown" and re.search(r"^\*Runtime:.*\*$", cell.source, re.M):
                cell.source = re.sub(
                    r"^\*Runtime:.*\*$", lambda _, line=line: f"*Runtime: {line}*", cell.source, count=1, flags=re.M
                )
                break
        nbformat.write(notebook, path)
        rows.append(
            f"| [`{path.stem}`](notebooks/{path.name}) | {_minutes(result['full_seconds'])} | "
            f"{_minutes(result['quick_seconds']) if 'quick_seconds' in result else ''} |"
        )
    subprocess.run([sys.executable, str(PROJECT_ROOT / "scripts" / "add_navigation.py")], check=True)
    text = README.read_text()
    if README_START in text and README_END in text:
        table = "\n".join(["| notebook | full downloads | quick mode |", "| --- | --- | --- |", *rows])
        head, rest = text.split(README_START, 1)
        text = f"{head}{README_START}\n{table}\n{README_END}{rest.split(README_END, 1)[1]}"
        README.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="folder with mnist-dev/ and emnist-dev/")
    parser.add_argument("--results", type=Path, help="the JSON lines of an earlier run: write them, run nothing")
    parser.add_argument(
        "--only",
        nargs="*",
        help="notebook numbers to time, e.g. 04 06 (default: all); a notebook "
        "whose models were not trained in this run reads the shipped ones",
    )
    parser.add_argument("--skip-quick", action="store_true", help="time full mode only")
    parser.add_argument("--write", action="store_true", help="write the times into the notebooks and the README")
    args = parser.parse_args()
    if args.results:
        results, speed = {}, None
        for line in (json.loads(text) for text in args.results.read_text().splitlines() if text.startswith("{")):
            speed = line.get("machine_images_per_second", speed)  # each run starts with its machine's speed
            if "notebook" in line:
                results[line["notebook"][:2]] = {"images_per_second": speed, **line}
        write_runtimes(results, datetime.date.fromtimestamp(args.results.stat().st_mtime).isoformat())
        return
    if args.data is None:
        parser.error("--data is required unless --results is given")
    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    chosen = [p for p in paths if not args.only or p.name[:2] in args.only]
    speed = machine_speed()
    print(json.dumps({"machine_images_per_second": round(speed)}), flush=True)
    day = datetime.date.today().isoformat()
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="hcr-full-") as tmp:
        data = full_size_data(args.data, Path(tmp) / "data")
        emnist = load_emnist("balanced", data / "emnist")
        assert len(emnist.y_train) == 112_800 and len(emnist.y_test) == 18_800
        for path in chosen:
            number = path.name[:2]
            full, slowest = run(path, {DATA_DIR_ENV: str(data), MODELS_DIR_ENV: str(Path(tmp) / "models")})
            results[number] = {
                "notebook": path.name,
                "images_per_second": round(speed),
                "full_seconds": round(full, 1),
                "slowest_cells": [[round(s, 1), first] for s, first in slowest],
            }
            if not args.skip_quick:
                quick, _ = run(path, {QUICK_ENV: "1", MODELS_DIR_ENV: str(Path(tmp) / "quick_models")})
                results[number]["quick_seconds"] = round(quick, 1)
            print(json.dumps(results[number]), flush=True)
    if args.write:
        write_runtimes(results, day)


if __name__ == "__main__":
    main()
