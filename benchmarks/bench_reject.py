"""Which rule tells "I can't read this" from a real character? Measures candidate rules; prints JSON lines.

    python benchmarks/bench_reject.py --model saved_models/emnist_cnn.keras \\
        --data-dir ../shared/data/emnist-dev --n 2000 --fake 300

Real characters: ``--n`` test images, each read twice, as the original scan and
redrawn as pad strokes (``hcr_utils.strokes.redraw``). Half of them (the
*tuning* half) set each rule's threshold so that at most ``--budget`` (2%) of
real characters would be refused; the other half reports how many really are.
Not characters: ``--fake`` of each kind from ``benchmarks/drawings.py`` (scribbles,
filled blobs, smudges on paper, two test characters side by side), also in a
tuning and a report half, and the share of each report half that a rule refuses. One line per single-feature rule; then the
best combination of three checks (solidity, aspect, top-3 mass), its thresholds
searched on the tuning halves of the real and the fake pictures and scored on
the other halves; then the rule that ``hcr_utils.rejection`` ships.
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
from drawings import filled_blob, scribble, smudge, two_characters  # benchmarks/drawings.py

from hcr_utils.config import SEED
from hcr_utils.datasets import load
from hcr_utils.inference import Recognizer
from hcr_utils.preprocessing import BlankImageError
from hcr_utils.rejection import Features, features, unreadable
from hcr_utils.strokes import redraw, render_strokes

CANDIDATES: dict[str, Callable[[Features], float]] = {  # higher = more like a character
    "confidence": lambda f: f.confidence,
    "margin": lambda f: f.margin,
    "top-3 mass": lambda f: f.top3,
    "negative entropy": lambda f: -f.entropy,
    "negative solidity": lambda f: -f.solid,
    "negative aspect": lambda f: -f.aspect,
}


def measure(recognizer: Recognizer, pictures: list[np.ndarray]) -> list[Features | None]:
    """Features of each picture; None where top_k itself refuses it (blank, a speck)."""
    found = []
    for picture in pictures:
        try:
            found.append(features(recognizer.probabilities(recognizer.prepare(picture)[None])[0], picture))
        except BlankImageError:
            found.append(None)
    return found


CHECKS = {"solid": lambda f: f.solid, "aspect": lambda f: f.aspect, "top3": lambda f: -f.top3}  # each refuses above


def combined(real: list, halves: np.ndarray, fakes: dict[str, list], budget: float, report: Callable) -> dict:
    """The rule of all ``CHECKS`` whose thresholds refuse the most tuning fakes while refusing at most ``budget``
    of the tuning half of the real characters; scored (by ``report``) on the other halves."""
    tuning_real = np.array(
        [[get(f) for get in CHECKS.values()] for f, half in zip(real, halves) if half == 0 and f is not None]
    )
    tuning_fakes = np.array(
        [
            [get(f) for get in CHECKS.values()]
            for found in fakes.values()
            for f in found[: len(found) // 2]
            if f is not None
        ]
    )
    levels = np.linspace(0, budget, 9)
    best_caught, best_limits = -1.0, None
    for shares in itertools.product(levels, repeat=len(CHECKS)):
        limits = np.array(
            [np.quantile(tuning_real[:, i], 1 - share) if share else np.inf for i, share in enumerate(shares)]
        )
        if (tuning_real > limits).any(axis=1).mean() <= budget:
            caught = (tuning_fakes > limits).any(axis=1).mean()
            if caught > best_caught:
                best_caught, best_limits = caught, limits
    limits = dict(zip(CHECKS, best_limits))
    row = report("best combination", lambda f: any(get(f) > limits[name] for name, get in CHECKS.items()))
    row["thresholds"] = {
        "max_solid": round(limits["solid"], 4),
        "max_aspect": round(limits["aspect"], 4),
        "min_top3": round(-limits["top3"], 4),
    }
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--n", type=int, default=2000, help="real test characters")
    parser.add_argument("--fake", type=int, default=300, help="non-characters of each kind")
    parser.add_argument(
        "--budget",
        type=float,
        default=0.012,
        help="share of the tuning half's real characters a rule may refuse (the target is 2%% on the "
        "report half; a tighter budget on the tuning half leaves room for the difference)",
    )
    args = parser.parse_args()
    recognizer = Recognizer.load(args.model)
    data = load(recognizer.dataset, args.data_dir)
    rng = np.random.default_rng(SEED)
    pick = rng.permutation(len(data.y_test))[: args.n]
    originals = list(data.x_test[pick])
    real = measure(recognizer, originals) + measure(recognizer, [redraw(image) for image in originals])
    halves = np.arange(len(real)) % len(originals) % 2  # the same character in the same half, scan and drawing
    pairs = rng.integers(0, len(data.y_test), (args.fake, 2))
    fakes = {
        "scribble": measure(recognizer, [render_strokes(scribble(rng)) for _ in range(args.fake)]),
        "filled blob": measure(recognizer, [render_strokes(filled_blob(rng)) for _ in range(args.fake)]),
        "smudge": measure(recognizer, [smudge(rng) for _ in range(args.fake)]),
        "two characters": measure(
            recognizer, [render_strokes(two_characters(data.x_test[a], data.x_test[b])) for a, b in pairs]
        ),
    }

    def report(name: str, refuses: Callable[[Features], bool], threshold: float | None = None) -> dict:
        refused_real = np.array([f is None or refuses(f) for f in real])
        row = {
            "rule": name,
            "dataset": recognizer.dataset,
            "n_real": int((halves == 1).sum()),
            "real_refused": round(float(refused_real[halves == 1].mean()), 4),
            "real_refused_tuning_half": round(float(refused_real[halves == 0].mean()), 4),
            **{
                f"{kind}_refused": round(float(np.mean([f is None or refuses(f) for f in found[len(found) // 2 :]])), 4)
                for kind, found in fakes.items()
            },
        }
        row["non_characters_refused"] = round(float(np.mean([row[f"{kind}_refused"] for kind in fakes])), 4)
        if threshold is not None:
            row["threshold"] = round(threshold, 4)
        return row

    for name, score in CANDIDATES.items():
        tuning = np.array([score(f) for f, half in zip(real, halves) if half == 0 and f is not None])
        threshold = float(np.quantile(tuning, args.budget))
        print(json.dumps(report(name, lambda f, s=score, t=threshold: s(f) < t, threshold)), flush=True)
    print(json.dumps(combined(real, halves, fakes, args.budget, report)), flush=True)
    shipped = report("shipped rule (hcr_utils.rejection)", lambda f: unreadable(f, recognizer.dataset) is not None)
    print(json.dumps(shipped), flush=True)


if __name__ == "__main__":
    main()
