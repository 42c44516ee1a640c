"""Time every notebook in full mode on data laid out like a learner's downloads, at their real size.

    python benchmarks/time_notebooks.py --data ../shared/data [--only 04 06] [--cpu typical] [--write] >> times.jsonl
    python benchmarks/time_notebooks.py --results benchmarks/results_notebook_times.jsonl --write

The development images are repeated (MNIST) or drawn with replacement per class
(EMNIST Balanced: 2,400 of every class for training, 400 for testing) up to the
official counts, ByMerge's training labels are drawn from the development
labels' frequencies up to its count, and ByClass's 62 labels at random: only the
timing is real then, not the accuracy. Each notebook runs top to bottom in a fresh kernel with its models
saved to a temporary folder, in order (07 and the later notebooks read what 04 and 06 saved);
quick mode (``HCR_QUICK=1``) is timed too. Prints one JSON line per notebook,
with the CPU it ran on (``lscpu``'s model name and whether it has AVX-512).

Two kinds of CPU: ``fast`` (the machine as it is; with AVX-512 TensorFlow turns
oneDNN on) and ``typical`` (``--cpu typical``: oneDNN off and limited to AVX2, as on
most laptops, which have no AVX-512). ``--write`` puts the newest time of each kind
into each notebook's runtime line, the contents page and the README's table.
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
from arithmetic import cpu_description
from cpu_kinds import TYPICAL_CPU
from nbclient import NotebookClient

from hcr_utils.config import DATA_DIR_ENV, MODELS_DIR_ENV, PROJECT_ROOT, QUICK_ENV, SEED
from hcr_utils.datasets import emnist_files, load_emnist, mnist_files
from hcr_utils.idx import read_idx, read_images_and_labels, write_idx

NOTEBOOKS = PROJECT_ROOT / "notebooks"
MNIST_SIZES = {"train": 60_000, "test": 10_000}
EMNIST_PER_CLASS = {"train": 2_400, "test": 400}
BYMERGE_TRAIN = 697_932
DOWNLOADS = {
    "01": "the first run also downloads MNIST (11 MB)",
    "05": "the first run also downloads NIST's EMNIST archive (536 MB)",
}


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
    byclass = emnist_files("byclass")  # notebook 05's exercise counts its 62 classes: labels drawn at random
    characters = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    mapping = "".join(f"{label} {ord(char)}\r\n" for label, char in enumerate(characters))
    (folder / "emnist" / byclass["mapping"]).write_text(mapping, newline="")
    write_idx(folder / "emnist" / byclass["train_labels"], rng.integers(0, 62, BYMERGE_TRAIN).astype(np.uint8))
    return folder


def machine_speed() -> float:
    """Images per second of the EMNIST recipe's training on this machine now: the notebooks' own measurement
    (``training.measure_speed``), for ten seconds after the graph is built."""
    code = (
        "import hcr_utils.runtime\nhcr_utils.runtime.start_tensorflow()\n"
        "from hcr_utils.training import RECIPES, measure_speed\n"
        "print(measure_speed(RECIPES['emnist'], 47, seconds=10.0))"
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
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


def runtime_line(number: str, times: dict[str, dict]) -> str:
    """The runtime sentence of one notebook, from its newest ``fast`` and ``typical`` timings."""
    fast, typical = times.get("fast"), times.get("typical")
    if fast and typical:
        text = (
            f"about {_minutes(fast['full_seconds'])} on a fast laptop CPU and about "
            f"{_minutes(typical['full_seconds'])} on a typical one, with the full downloads"
        )
    elif fast:
        text = (
            f"about {_minutes(fast['full_seconds'])} on a fast laptop CPU (not yet timed on a typical one), "
            "with the full downloads"
        )
    else:
        text = f"about {_minutes(typical['full_seconds'])} on a typical laptop CPU, with the full downloads"
    quick = (fast or typical).get("quick_seconds")
    if quick is not None:
        text += f" ({_minutes(quick)} in quick mode)"
    if number in DOWNLOADS:
        text += f"; {DOWNLOADS[number]}"
    return text + "."


def write_runtimes(results: dict[str, dict[str, dict]]) -> None:
    """Put the measured times into the notebooks' runtime lines; add_navigation.py copies them to the contents
    page and the README's table."""
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        number = path.name[:2]
        if not any("full_seconds" in timing for timing in results.get(number, {}).values()):
            continue
        times = results[number]
        line = runtime_line(number, times)
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "markdown" and re.search(r"^\*Runtime:.*\*$", cell.source, re.M):
                cell.source = re.sub(
                    r"^\*Runtime:.*\*$", lambda _, line=line: f"*Runtime: {line}*", cell.source, count=1, flags=re.M
                )
                break
        nbformat.write(notebook, path)
    subprocess.run([sys.executable, str(PROJECT_ROOT / "scripts" / "add_navigation.py")], check=True)


def read_results(path: Path) -> dict[str, dict[str, dict]]:
    """The newest timing of each notebook and CPU kind in a JSON-lines file: later lines win, time by time
    (a run of quick mode alone keeps the full-mode time of an earlier run)."""
    results: dict[str, dict[str, dict]] = {}
    for line in (json.loads(text) for text in path.read_text().splitlines() if text.startswith("{")):
        if "notebook" in line:
            kept = results.setdefault(line["notebook"][:2], {}).setdefault(line.get("cpu", "fast"), {})
            kept.update({key: value for key, value in line.items() if value is not None})
    return results


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
    parser.add_argument(
        "--quick-only", action="store_true", help="time quick mode only (--results then keeps earlier full times)"
    )
    parser.add_argument(
        "--cpu",
        choices=("fast", "typical"),
        default="fast",
        help="typical: oneDNN off and limited to AVX2, as on a laptop without AVX-512",
    )
    parser.add_argument("--write", action="store_true", help="write the times into the notebooks and the README")
    args = parser.parse_args()
    if args.results:
        write_runtimes(read_results(args.results))
        return
    if args.data is None:
        parser.error("--data is required unless --results is given")
    if args.cpu == "typical":
        os.environ.update(TYPICAL_CPU)  # the notebooks' kernels inherit it
    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    chosen = [p for p in paths if not args.only or p.name[:2] in args.only]
    machine = {"cpu": args.cpu, **cpu_description(), "machine_images_per_second": round(machine_speed())}
    print(json.dumps(machine), flush=True)
    results: dict[str, dict[str, dict]] = {}
    with tempfile.TemporaryDirectory(prefix="hcr-full-") as tmp:
        data = full_size_data(args.data, Path(tmp) / "data")
        emnist = load_emnist("balanced", data / "emnist")
        assert len(emnist.y_train) == 112_800 and len(emnist.y_test) == 18_800
        for path in chosen:
            result = {"notebook": path.name, **machine}
            if not args.quick_only:
                full, slowest = run(path, {DATA_DIR_ENV: str(data), MODELS_DIR_ENV: str(Path(tmp) / "models")})
                result["full_seconds"] = round(full, 1)
                result["slowest_cells"] = [[round(s, 1), first] for s, first in slowest]
            if not args.skip_quick:
                quick, _ = run(path, {QUICK_ENV: "1", MODELS_DIR_ENV: str(Path(tmp) / "quick_models")})
                result["quick_seconds"] = round(quick, 1)
            results.setdefault(path.name[:2], {})[args.cpu] = result
            print(json.dumps(result), flush=True)
    if args.write:
        write_runtimes(results)


if __name__ == "__main__":
    main()
