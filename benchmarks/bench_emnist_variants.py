"""Train variants of the EMNIST recipe on the development data and report what each gives.

    python benchmarks/bench_emnist_variants.py --data ../shared/data \
        --variant 'gap head={"model": {"head": "gap"}, "images": 1050000}' \
        --variant 'subset test={"images": 175000}' --train-subset 35000

Each ``--variant NAME=JSON`` replaces fields of ``RECIPES["emnist"]`` (``model``
entries are merged into the recipe's). Prints one JSON line per variant:
accuracy, top-3, accuracy with test-time augmentation, training seconds and
the test accuracy after every epoch, and the balanced accuracy (the mean of the
per-class recalls: what a balanced test measures, also on an unbalanced
validation split); with ``--canvas N`` also the accuracy on N
test images redrawn as drawing-pad strokes (as ``bench_inference.py`` does).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np
from bench_inference import fidelity

from hcr_utils.config import SEED
from hcr_utils.datasets import load_emnist
from hcr_utils.evaluation import evaluate, predict_probabilities
from hcr_utils.inference import Recognizer, save_model
from hcr_utils.strokes import redraw
from hcr_utils.training import RECIPES, Recipe, train_recipe


def variant(text: str) -> tuple[str, Recipe]:
    """Parse ``NAME=JSON`` into a name and the EMNIST recipe with those fields replaced."""
    name, _, overrides = text.partition("=")
    return name, RECIPES["emnist"].changed(**json.loads(overrides or "{}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="folder with emnist-dev/")
    parser.add_argument("--variant", type=variant, action="append", required=True, help="NAME=JSON overrides")
    parser.add_argument("--train-subset", type=int, help="train on this many random images only")
    parser.add_argument("--out-dir", type=Path, help="save each variant's model here as NAME.keras")
    parser.add_argument("--canvas", type=int, default=0, help="also read this many test images redrawn on the pad")
    parser.add_argument(
        "--validation",
        action="store_true",
        help="hold a stratified tenth of the training images out and score on it, never on the test "
        "set: for choosing between variants",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=SEED,
        help="seed of the training (the weights' start, the batches' order, the augmentation); the validation "
        "split keeps the course's seed",
    )
    args = parser.parse_args()
    data = load_emnist("balanced", args.data / "emnist-dev")
    if args.validation:
        split = data.with_validation(0.1)
        data = dataclasses.replace(split, x_test=split.x_val, y_test=split.y_val)  # "test" below is the validation set
    if args.train_subset:
        keep = np.random.default_rng(SEED).permutation(len(data.x_train))[: args.train_subset]
        data = dataclasses.replace(data, x_train=data.x_train[keep], y_train=data.y_train[keep])
    # the scored set is scored after every epoch for the accuracy/time curve only
    data = dataclasses.replace(data, x_val=data.x_test, y_val=data.y_test)
    pick = np.random.default_rng(SEED).permutation(len(data.y_test))[: args.canvas]
    drawings = [redraw(image) for image in data.x_test[pick]]
    for name, recipe in args.variant:
        model, history = train_recipe(data, recipe, seed=args.seed, verbose=0)
        scored = evaluate(model, data)
        tta = predict_probabilities(model, data.x_test, augmented_copies=6).argmax(axis=1)
        print(
            json.dumps(
                {
                    "variant": name,
                    "scored_on": "validation" if args.validation else "test",
                    "seed": args.seed,
                    "train_n": len(data.x_train),
                    "epochs": len(history.history["loss"]),
                    "accuracy": round(scored.accuracy, 4),
                    "top3": round(scored.top_k(3), 4),
                    "balanced_accuracy": round(float(np.mean(scored.per_class()["recall"])), 4),
                    "tta_accuracy": round(float(np.mean(tta == data.y_test)), 4),
                    "train_seconds": round(history.history["seconds"][0]),
                    "per_epoch": [round(v, 4) for v in history.history["val_accuracy"]],
                    **(
                        {
                            "canvas": fidelity(
                                Recognizer(model, "emnist", data.classes),
                                data.x_test[pick],
                                data.y_test[pick],
                                drawings,
                            )
                        }
                        if drawings
                        else {}
                    ),
                }
            ),
            flush=True,
        )
        if args.out_dir:
            save_model(model, args.out_dir / f"{name.replace(' ', '_')}.keras", "emnist", data.classes)


if __name__ == "__main__":
    main()
