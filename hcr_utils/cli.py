"""Command line for teachers and benchmarks: train, evaluate, predict and export (``hcr``, or ``python -m hcr_utils``).

    hcr train mnist|emnist --data-dir DIR --out PATH [--images N]
    hcr train words --data-dir DIR --out PATH [--images LINES]
    hcr evaluate MODEL --dataset mnist --data-dir DIR
    hcr predict MODEL IMAGE... [--only digits|letters] [--refuse] [--word]
    hcr export MODEL --format litert [--int8 [--data-dir DIR] | --dynamic] --out NAME.tflite

A MODEL is a path to a ``.keras`` file (or, for evaluate and predict, its
``.tflite`` export), or a model's name such as ``emnist_cnn``: yours in
``my_models/`` (or ``HCR_MODELS_DIR``) if you trained one, else the one shipped
with the course.

Exit codes: 0 done; 1 a problem you can fix (a missing or damaged file, a blank
picture), its message printed on one line; 2 a wrong command line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .errors import HcrError

MODEL_HELP = "a .keras or .tflite file, or a model's name (emnist_cnn: yours if you trained one, else the shipped one)"

EXIT_USER_ERROR = 1  # a problem the user can fix (an HcrError): its message, one line
EXIT_USAGE = 2  # argparse's code for a wrong command line


class UsageError(Exception):
    """Options that do not go together: reported by argparse, with the usage line."""


def _train_words(args: argparse.Namespace) -> int:
    """The line reader of notebook 14 (a CRNN trained with CTC), started from the EMNIST character model."""
    import dataclasses

    from .datasets import load_emnist
    from .inference import Recognizer
    from .saved import keep_earlier, resolve
    from .words import WORD_RECIPE, save_reader, train_crnn

    data = load_emnist("balanced", args.data_dir)
    recipe = WORD_RECIPE if args.images is None else dataclasses.replace(WORD_RECIPE, lines=args.images)
    characters = Recognizer.load(resolve(args.init or "emnist_cnn")).model
    model, history = train_crnn(data, recipe, characters=characters, verbose=2)
    kept = keep_earlier(args.out)  # a model already there is renamed, never deleted
    save_reader(model, args.out, data.classes)
    print(
        json.dumps(
            {
                "dataset": "words",
                "lines": recipe.lines,
                "n": len(data.x_train),
                "seconds": round(history.history["seconds"][0], 1),
                "out": str(args.out),
                "kept_earlier": kept and str(kept),
            }
        )
    )
    return 0


def _train(args: argparse.Namespace) -> int:
    from .datasets import load
    from .inference import save_model
    from .saved import keep_earlier
    from .training import RECIPES, train_recipe

    if args.dataset == "words":
        return _train_words(args)
    data = load(args.dataset, args.data_dir)
    recipe = RECIPES[args.dataset].with_images(args.images)
    model, history = train_recipe(data, recipe, verbose=2)
    kept = keep_earlier(args.out)  # a model already there is renamed, never deleted
    save_model(model, args.out, args.dataset, data.classes)
    print(
        json.dumps(
            {
                "dataset": args.dataset,
                "images": recipe.images,
                "epochs": len(history.history["loss"]),
                "n": len(data.x_train),
                "seconds": round(history.history["seconds"][0], 1),
                "out": str(args.out),
                "kept_earlier": kept and str(kept),
            }
        )
    )
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from .datasets import load
    from .evaluation import Evaluation
    from .inference import Recognizer
    from .saved import resolve

    recognizer = Recognizer.load(resolve(args.model))
    data = load(args.dataset, args.data_dir)
    if recognizer.classes != data.classes:
        raise HcrError(
            f"{args.model} predicts {len(recognizer.classes)} classes, but {args.dataset} has {len(data.classes)}"
        )
    start = time.perf_counter()
    probabilities = recognizer.probabilities(data.x_test)  # Keras or LiteRT, whichever the file is
    evaluation = Evaluation(probabilities, data.y_test, data.classes, time.perf_counter() - start)
    print(json.dumps(evaluation.summary(args.dataset)))
    return 0


def _picture(path: Path):
    """The pixels of an image file; UnreadableImageError (one line) when it cannot be read or is not an image."""
    from .preprocessing import UnreadableImageError, decode_image

    try:
        data = path.read_bytes()
    except OSError as err:
        raise UnreadableImageError(f"cannot read the file ({err.strerror})") from None
    return decode_image(data)


def _predict_lines(args: argparse.Namespace, model: Path) -> int:
    """A word model reads each image as one line: the text and each character's probability (or the word of the list)."""
    from .words import WordReader

    if args.only or args.refuse:
        raise UsageError("--only and --refuse are for character models; a word model reads whole lines")
    reader = WordReader.load(model)
    status = 0
    for path in args.images:
        try:
            reading = reader.read_with_scores(_picture(path))
        except HcrError as err:  # unreadable file, not an image, blank picture
            print(f"error: {path}: {err}", file=sys.stderr)
            status = EXIT_USER_ERROR
            continue
        if args.word:
            word = reader.word(reading.probabilities)
            print(f"{path}\t{word if word else 'no word of the list fits'}")
        else:
            print(f"{path}\t{reading.text}\t" + "  ".join(f"{char} {prob:.3f}" for char, prob in reading.characters))
    return status


def _predict(args: argparse.Namespace) -> int:
    from .inference import Recognizer
    from .saved import read_labels, resolve

    model = resolve(args.model)
    if read_labels(model)["kind"] == "words":
        return _predict_lines(args, model)
    if args.word:
        raise UsageError("--word needs a word model, such as emnist_words (hcr train words)")
    recognizer = Recognizer.load(model)
    status = 0
    for path in args.images:
        try:
            reading = recognizer.read(_picture(path), k=3, allowed=args.only)
        except HcrError as err:  # unreadable file, not an image, blank picture
            print(f"error: {path}: {err}", file=sys.stderr)
            status = EXIT_USER_ERROR
            continue
        if args.refuse and reading.refusal:
            print(f"{path}\tI can't read this: {reading.refusal}")
            continue
        best = reading.guesses or recognizer.best(reading.seen, k=3, allowed=args.only)
        print(f"{path}\t" + "  ".join(f"{char} {prob:.3f}" for char, prob in best))
    return status


def _export(args: argparse.Namespace) -> int:
    from .datasets import load
    from .export import calibration_images, export_onnx, export_saved_model, export_tflite, size_bytes
    from .inference import Recognizer
    from .saved import resolve

    if args.format != "litert" and (args.int8 or args.dynamic):
        raise UsageError("--int8 and --dynamic quantise LiteRT models: use them with --format litert")
    model = resolve(args.model)
    if model.suffix != ".keras":
        raise UsageError(f"{args.model}: export reads a .keras model")
    recognizer = Recognizer.load(model)
    start = time.perf_counter()
    if args.format == "litert":
        quantization = "int8" if args.int8 else "dynamic" if args.dynamic else "float32"
        calibration = calibration_images(load(recognizer.dataset, args.data_dir)) if args.int8 else None
        out = export_tflite(recognizer, args.out, quantization, calibration)
    else:
        quantization = "float32"
        out = (export_saved_model if args.format == "saved_model" else export_onnx)(recognizer, args.out)
    print(
        json.dumps(
            {
                "format": args.format,
                "quantization": quantization,
                "bytes": size_bytes(out),
                "seconds": round(time.perf_counter() - start, 1),
                "out": str(out),
            }
        )
    )
    return 0


def parser() -> argparse.ArgumentParser:
    """The argument parser of ``hcr``."""
    main_parser = argparse.ArgumentParser(
        prog="hcr",
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n")[-1].strip(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = main_parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a chapter's final recipe and save a .keras model")
    train.add_argument(
        "dataset",
        choices=["mnist", "emnist", "words"],
        help="words: the line reader (CRNN + CTC) on lines written with EMNIST Balanced characters",
    )
    train.add_argument("--data-dir", type=Path, help="folder with the official IDX files (default: data/<dataset>)")
    train.add_argument("--out", type=Path, required=True, help="where to save the model (NAME.keras)")
    train.add_argument(
        "--images", type=int, help="override the recipe's training budget (images seen in all; lines, for words)"
    )
    train.add_argument(
        "--init",
        help="words: the EMNIST character model to start from, a path or a name "
        "(default: emnist_cnn, yours in my_models/ if you trained one, else the shipped one)",
    )
    train.set_defaults(run=_train)

    score = commands.add_parser("evaluate", help="score a saved model on a test set; prints one JSON line")
    score.add_argument("model", help=MODEL_HELP)
    score.add_argument("--dataset", choices=["mnist", "emnist"], required=True)
    score.add_argument("--data-dir", type=Path, help="folder with the official IDX files")
    score.set_defaults(run=_evaluate)

    predict = commands.add_parser("predict", help="top-3 characters for each image file (a word model: the line read)")
    predict.add_argument("model", help=MODEL_HELP)
    predict.add_argument("images", type=Path, nargs="+")
    predict.add_argument("--only", choices=["digits", "letters"], help="answer only with digits, or only with letters")
    predict.add_argument(
        "--refuse",
        action="store_true",
        help='say "I can\'t read this" for a scribble, a blob or two characters, instead of guessing',
    )
    predict.add_argument("--word", action="store_true", help="a word model: answer with the likeliest word of the list")
    predict.set_defaults(run=_predict)

    export = commands.add_parser("export", help="export a .keras model as .tflite (phones, edge), SavedModel or ONNX")
    export.add_argument("model", help="a .keras model (its labels file beside it), by path or by name")
    export.add_argument("--format", choices=["litert", "saved_model", "onnx"], required=True)
    precision = export.add_mutually_exclusive_group()
    precision.add_argument(
        "--int8", action="store_true", help="full-integer quantisation, calibrated on training images"
    )
    precision.add_argument("--dynamic", action="store_true", help="dynamic-range quantisation: int8 weights")
    export.add_argument(
        "--data-dir", type=Path, help="the model's dataset (official IDX files), for --int8 calibration"
    )
    export.add_argument("--out", type=Path, required=True, help="NAME.tflite, a SavedModel folder, or NAME.onnx")
    export.set_defaults(run=_export)
    return main_parser


def main(argv: list[str] | None = None) -> int:
    """Run a command. A problem the user can fix prints one line and returns 1; a wrong command line exits with 2."""
    main_parser = parser()
    args = main_parser.parse_args(argv)
    from .runtime import start_tensorflow  # after parsing: `hcr --help` answers without starting TensorFlow

    start_tensorflow()
    try:
        return args.run(args)
    except UsageError as err:
        main_parser.error(str(err))  # exits with EXIT_USAGE
    except HcrError as err:  # missing or damaged files, bad data, blank pictures, a model of the wrong kind
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
