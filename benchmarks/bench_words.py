"""The line reader against its targets; prints one JSON line per measurement.

    python benchmarks/bench_words.py --data-dir /work/shared/data/emnist-dev \\
        --model saved_models/emnist_words.keras [--train my_models/emnist_words.keras] [--lines 5000]

* ``random_lines``: lines of 1 to 10 random characters written with EMNIST
  Balanced *test* images (touching and overlapping neighbours included): the
  CRNN's CER and whole-line accuracy (greedy decoding after ``correct_prior``;
  ``greedy_cer``: without it), the character model's
  error on the very same images read one by one, and segment-then-read's CER
  on the same lines. Targets: CER <= 1.2 × the character model's error, and <= half of segment-then-read's.
* ``words``: every held-out word of ``data/words``, written with test images:
  word accuracy with the lexicon-constrained decoder (``WordReader.word``, target >= 90%; ``_plain``:
  without ``correct_prior``), and
  without the lexicon (greedy), case-insensitive; segment-then-read too.
* ``latency``: ``WordReader.read`` on 840×200 word-pad drawings of test lines, p50 / p95 (target p95 <= 30 ms).
* ``--train OUT``: first train the recipe (as ``python -m hcr_utils train words``), time it (target <= 20
  minutes) and measure the model it saves. ``--budget LINES`` trains on another budget of lines, with its own
  schedule; ``--record FILE`` appends the model's point of the budget curve (lines, CER of the random
  lines, held-out word accuracy) to ``FILE``, e.g. ``data/measured/words_budget.jsonl``, which notebook 14 plots.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
from pathlib import Path

import numpy as np
from drawings import line_strokes  # benchmarks/drawings.py

from hcr_utils import config
from hcr_utils.datasets import load_emnist
from hcr_utils.export import percentiles_ms
from hcr_utils.inference import Recognizer, find_model
from hcr_utils.strokes import render_strokes
from hcr_utils.word_pad import BRUSH_WIDTH, HEIGHT, WIDTH
from hcr_utils.words import (
    WORD_RECIPE,
    Lexicon,
    LineMaker,
    WordReader,
    character_error_rate,
    confusions,
    greedy_decode,
    labels_text,
    read_by_segments,
    save_reader,
    train_crnn,
    word_list,
)

CER_TO_CHARACTERS = 1.2
CER_TO_SEGMENTS = 0.5
WORD_ACCURACY = 0.90
LATENCY_P95_MS = 30.0
TRAINING_S = 20 * 60


def rounded(value: float) -> float:
    return round(float(value), 4)


def random_lines(reader: WordReader, characters: Recognizer, maker: LineMaker, count: int) -> dict:
    """CER of the CRNN, of segment-then-read and the character model's error, on the same test lines."""
    lines = maker.random_lines(count, seed=config.SEED)
    truths = lines.texts(reader.classes)
    start = time.perf_counter()
    read = reader.texts(lines.images, corrected=True)
    seconds = time.perf_counter() - start
    plain = reader.texts(lines.images)
    segmented = [read_by_segments(characters, image) for image in lines.images]
    sources, labels = np.concatenate(lines.sources), np.concatenate(lines.labels)
    alone = float(np.mean(characters.probabilities(maker.images[sources]).argmax(axis=1) != labels))
    cer, segment_cer = character_error_rate(truths, read), character_error_rate(truths, segmented)
    plain_cer = character_error_rate(truths, plain)
    return {
        "benchmark": "random_lines",
        "lines": count,
        "characters": int(len(labels)),
        "cer": rounded(cer),
        "line_accuracy": rounded(np.mean([t == r for t, r in zip(truths, read)])),
        "greedy_cer": rounded(plain_cer),
        "greedy_line_accuracy": rounded(np.mean([t == r for t, r in zip(truths, plain)])),
        "character_model_error": rounded(alone),
        "segment_cer": rounded(segment_cer),
        "segment_line_accuracy": rounded(np.mean([t == r for t, r in zip(truths, segmented)])),
        "cer_to_character_error": rounded(cer / alone),
        "greedy_cer_to_character_error": rounded(plain_cer / alone),
        "cer_to_segment_cer": rounded(cer / segment_cer),
        "ms_per_line_batched": rounded(1000 * seconds / count),
        "top_confusions": [f"{t or '-'}>{r or '-'} {n}" for (t, r), n in confusions(truths, read).most_common(8)],
        "met": bool(cer <= CER_TO_CHARACTERS * alone and cer <= CER_TO_SEGMENTS * segment_cer),
    }


def words(reader: WordReader, characters: Recognizer, maker: LineMaker) -> dict:
    """Word accuracy and CER on every held-out word, with and without the lexicon, and by segments."""
    held_out = word_list("held_out")
    lines = maker.word_lines(held_out, seed=config.SEED)
    probabilities = reader.frame_probabilities(lines.images)
    plain = [labels_text((c for c, _ in greedy_decode(p)), reader.classes).lower() for p in probabilities]
    reader.word(probabilities[0])  # builds the lexicon and the prior before the clock starts
    start = time.perf_counter()
    constrained = [reader.word(p) or "" for p in probabilities]
    lexicon_ms = 1000 * (time.perf_counter() - start) / len(held_out)
    lexicon = Lexicon.shipped()
    uncorrected = [lexicon.decode(p, reader.classes) or "" for p in probabilities]
    segmented = [read_by_segments(characters, image).lower() for image in lines.images]

    def accuracy(read: list[str]) -> float:
        return rounded(np.mean([w == r for w, r in zip(held_out, read)]))

    lexicon_accuracy = accuracy(constrained)
    return {
        "benchmark": "words",
        "words": len(held_out),
        "lexicon_words": len(word_list("all")),
        "lexicon_word_accuracy": lexicon_accuracy,
        "lexicon_cer": rounded(character_error_rate(held_out, constrained)),
        "lexicon_ms_per_word": rounded(lexicon_ms),
        "lexicon_word_accuracy_plain": accuracy(uncorrected),
        "greedy_word_accuracy": accuracy(plain),
        "greedy_cer": rounded(character_error_rate(held_out, plain)),
        "segment_word_accuracy": accuracy(segmented),
        "segment_cer": rounded(character_error_rate(held_out, segmented)),
        "target_word_accuracy": WORD_ACCURACY,
        "met": bool(lexicon_accuracy >= WORD_ACCURACY),
    }


def latency(reader: WordReader, maker: LineMaker, count: int, repeats: int) -> dict:
    """p50/p95 milliseconds of ``read`` on 840×200 pad drawings of held-out words written with test images."""
    lines = maker.word_lines(word_list("held_out")[:count], seed=config.SEED)
    drawings = [render_strokes(line_strokes(line), (WIDTH, HEIGHT), BRUSH_WIDTH) for line in lines.images]
    p50, p95 = percentiles_ms(reader.read, drawings, repeats, warmup=10)
    return {
        "benchmark": "latency",
        "image": f"{WIDTH}x{HEIGHT}",
        "repeats": repeats,
        "p50_ms": rounded(p50),
        "p95_ms": rounded(p95),
        "target_p95_ms": LATENCY_P95_MS,
        "met": bool(p95 <= LATENCY_P95_MS),
    }


def main() -> None:
    """Parse the arguments, optionally train, then print every measurement."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="EMNIST Balanced in the official layout")
    parser.add_argument("--model", type=Path, default=Path("saved_models/emnist_words.keras"))
    parser.add_argument("--characters", type=Path, help="the character model (default: find_model's emnist_cnn.keras)")
    parser.add_argument("--train", type=Path, metavar="OUT", help="train the recipe first, save it here and measure it")
    parser.add_argument(
        "--budget", type=int, default=WORD_RECIPE.lines, help="the lines the model was (or is) trained on"
    )
    parser.add_argument("--record", type=Path, metavar="FILE", help="append the model's budget point to this file")
    parser.add_argument("--lines", type=int, default=5000, help="random test lines")
    parser.add_argument("--repeats", type=int, default=1000, help="timed read calls")
    args = parser.parse_args()

    data = load_emnist("balanced", args.data_dir)
    characters = Recognizer.load(args.characters or find_model("emnist_cnn.keras"))
    model_path, seconds = args.model, None
    if args.train:
        load = os.getloadavg()
        recipe = dataclasses.replace(WORD_RECIPE, lines=args.budget)
        model, history = train_crnn(data, recipe, characters=characters.model, verbose=2)
        seconds = history.history["seconds"][0]
        model_path = save_reader(model, args.train, data.classes)
        print(
            json.dumps(
                {
                    "benchmark": "training",
                    "lines": recipe.lines,
                    "train_images": len(data.y_train),
                    "seconds": round(seconds, 1),
                    "load_before": [round(x, 2) for x in load],
                    "load_after": [round(x, 2) for x in os.getloadavg()],
                    "loss": history.history["loss"],
                    "target_s": TRAINING_S,
                    "met": bool(seconds <= TRAINING_S),
                }
            ),
            flush=True,
        )
    reader = WordReader.load(model_path)
    maker = LineMaker(data, "test")
    print(
        json.dumps(
            {
                "benchmark": "model",
                "path": str(model_path),
                "bytes": model_path.stat().st_size,
                "test_images": len(data.y_test),
                "load": [round(x, 2) for x in os.getloadavg()],
            }
        ),
        flush=True,
    )
    print(json.dumps(latency(reader, maker, 200, args.repeats)), flush=True)
    lines = random_lines(reader, characters, maker, args.lines)
    print(json.dumps(lines), flush=True)
    held_out = words(reader, characters, maker)
    print(json.dumps(held_out), flush=True)
    if args.record:
        point = {
            "lines": args.budget,
            "scored_on": "random test lines",
            "test_lines": args.lines,
            "train_n": len(data.y_train),
            "cer": lines["greedy_cer"],  # as notebook 14 reads: greedy, no prior correction
            "corrected_cer": lines["cer"],
            "word_accuracy": held_out["lexicon_word_accuracy"],
            "train_seconds": None if seconds is None else round(seconds),
        }
        with args.record.open("a") as file:
            file.write(json.dumps(point) + "\n")


if __name__ == "__main__":
    main()
