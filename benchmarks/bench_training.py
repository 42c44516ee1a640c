"""Accuracy and training-time targets of the MNIST and EMNIST chapters, measured through the CLI.

    python benchmarks/bench_training.py --data ../shared/data [--only mnist|emnist] [--out-dir saved_models]

Trains each chapter's final recipe on the development train files with
``python -m hcr_utils train``, scores it with ``python -m hcr_utils evaluate``
and prints one JSON line per dataset with both results and whether the
targets (MNIST: >= 99.2% in <= 180 s, decided by 5-fold cross-validation in bench_mnist_cv.py since
1,000 test digits cannot tell 99.0% from 99.3%; EMNIST: >= 90.3%, top-3 >= 99.2% in <= 900 s) were met.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

FOLDERS = {"mnist": "mnist-dev", "emnist": "emnist-dev"}
TARGETS = {"mnist": {"accuracy": 0.992, "seconds": 180}, "emnist": {"accuracy": 0.903, "top3": 0.992, "seconds": 900}}


def run_json(*args: str) -> dict:
    """Run ``python -m hcr_utils ARGS`` and parse the JSON line it prints last."""
    done = subprocess.run([sys.executable, "-m", "hcr_utils", *args], check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench(dataset: str, data_root: Path, out_dir: Path) -> dict:
    """Train and evaluate one dataset's final recipe; compare with its targets."""
    data_dir = data_root / FOLDERS[dataset]
    model = out_dir / f"{dataset}_cnn.keras"
    trained = run_json("train", dataset, "--data-dir", str(data_dir), "--out", str(model))
    scored = run_json("evaluate", str(model), "--dataset", dataset, "--data-dir", str(data_dir))
    target = TARGETS[dataset]
    met = trained["seconds"] <= target["seconds"] and all(scored[k] >= v for k, v in target.items() if k != "seconds")
    return {
        "dataset": dataset,
        "train_n": trained["n"],
        "epochs": trained["epochs"],
        "train_seconds": trained["seconds"],
        **{k: scored[k] for k in ("accuracy", "top3", "n") if k in scored},
        "targets": target,
        "met": met,
        "model": str(model),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="folder with mnist-dev/ and emnist-dev/")
    parser.add_argument("--only", choices=sorted(FOLDERS))
    parser.add_argument("--out-dir", type=Path, default=Path("outputs/bench_models"))
    args = parser.parse_args()
    for dataset in [args.only] if args.only else list(FOLDERS):
        print(json.dumps(bench(dataset, args.data, args.out_dir)), flush=True)


if __name__ == "__main__":
    main()
