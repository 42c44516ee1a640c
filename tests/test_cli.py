"""``hcr`` (the command line): train, evaluate and predict on the real sample; clean one-line errors, exit code 1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from hcr_utils import cli, config
from hcr_utils.datasets import load_mnist
from hcr_utils.inference import Recognizer


@pytest.fixture(scope="module")
def trained_model(tmp_path_factory: pytest.TempPathFactory, sample_dir: Path) -> Path:
    """The MNIST recipe trained by the CLI for 4 epochs' worth of images on the shipped sample."""
    out = tmp_path_factory.mktemp("models") / "mnist_cnn.keras"
    assert (
        cli.main(["train", "mnist", "--data-dir", str(sample_dir / "mnist"), "--out", str(out), "--images", "8000"])
        == 0
    )
    return out


@pytest.mark.slow  # trains a model (module fixture)
def test_train_saves_model_and_labels(trained_model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert trained_model.exists()
    labels = json.loads(trained_model.with_name("mnist_cnn.labels.json").read_text())
    assert labels == {"kind": "characters", "dataset": "mnist", "classes": list("0123456789")}


@pytest.mark.slow  # trains two small models
def test_train_keeps_a_model_already_at_out(tmp_path: Path, sample_dir: Path, capsys) -> None:
    out = tmp_path / "mnist_cnn.keras"
    reports = []
    for _ in range(2):
        assert (
            cli.main(["train", "mnist", "--data-dir", str(sample_dir / "mnist"), "--out", str(out), "--images", "512"])
            == 0
        )
        reports.append(json.loads(capsys.readouterr().out.strip().splitlines()[-1]))
    assert [report["kept_earlier"] for report in reports] == [None, str(tmp_path / "mnist_cnn.1.keras")]
    assert Recognizer.load(tmp_path / "mnist_cnn.1.keras").classes == tuple("0123456789")


@pytest.mark.slow  # trains a model (module fixture)
def test_evaluate_prints_one_json_line(trained_model: Path, sample_dir: Path, capsys) -> None:
    capsys.readouterr()
    assert (
        cli.main(["evaluate", str(trained_model), "--dataset", "mnist", "--data-dir", str(sample_dir / "mnist")]) == 0
    )
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert set(result) == {"dataset", "accuracy", "n", "seconds"}
    assert result["dataset"] == "mnist"
    assert result["n"] == 500
    assert result["accuracy"] > 0.5  # four epochs on 2,000 real digits already learn most of them


@pytest.mark.slow  # trains a model (module fixture)
def test_evaluate_refuses_a_model_of_the_other_dataset(trained_model: Path, sample_dir: Path, capsys) -> None:
    code = cli.main(["evaluate", str(trained_model), "--dataset", "emnist", "--data-dir", str(sample_dir / "emnist")])
    assert code == 1
    assert "predicts 10 classes, but emnist has 47" in capsys.readouterr().err


@pytest.mark.slow  # trains a model (module fixture)
def test_predict_reads_image_files(trained_model: Path, sample_dir: Path, tmp_path: Path, capsys) -> None:
    data = load_mnist(sample_dir / "mnist")
    paths = []
    for i in range(10):  # the first test image of every digit, as dark ink on white paper (like a scan)
        index = int(np.flatnonzero(data.y_test == i)[0])
        path = tmp_path / f"digit_{i}.png"
        Image.fromarray(255 - data.x_test[index]).resize((112, 112)).save(path)
        paths.append(str(path))
    capsys.readouterr()
    assert cli.main(["predict", str(trained_model), *paths]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 10
    top1 = [line.split("\t")[1].split()[0] for line in lines]
    probabilities = [float(line.split("\t")[1].split()[1]) for line in lines]
    assert sum(t == str(i) for i, t in enumerate(top1)) >= 6
    assert all(0 < p <= 1 for p in probabilities)
    recognizer = Recognizer.load(trained_model)  # the files are read exactly as the pixels they hold
    direct = [recognizer.top_k(np.asarray(Image.open(path)), k=1)[0] for path in paths]
    assert top1 == [char for char, _ in direct]
    assert probabilities == pytest.approx([prob for _, prob in direct], abs=5e-4)


@pytest.mark.slow  # trains a model (module fixture)
def test_predict_bad_files_give_one_line_and_exit_1(trained_model: Path, tmp_path: Path) -> None:
    text = tmp_path / "notes.png"
    text.write_text("this is not an image")
    blank = tmp_path / "blank.png"
    Image.new("L", (64, 64), 255).save(blank)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "hcr_utils",
            "predict",
            str(trained_model),
            str(text),
            str(blank),
            str(tmp_path / "missing.png"),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    errors = done.stderr.strip().splitlines()
    assert "Traceback" not in done.stderr
    assert errors[0].startswith(f"error: {text}: not a readable image file")
    assert "blank" in errors[1]
    assert errors[2] == f"error: {tmp_path / 'missing.png'}: cannot read the file (No such file or directory)"


def test_missing_model_names_what_creates_it(tmp_path: Path, capsys) -> None:
    code = cli.main(["predict", str(tmp_path / "mnist_cnn.keras"), "x.png"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1
    assert "not found" in err
    assert "04_mnist_improve_and_evaluate.ipynb" in err
    assert "train mnist" in err


def test_predict_only_letters_and_refuse(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    from drawings import filled_blob

    from hcr_utils.strokes import render_strokes

    monkeypatch.setenv(config.MODELS_DIR_ENV, str(tmp_path / "my_models"))  # no model of yours: the shipped one
    model = "emnist_cnn"  # by name
    one, blob = tmp_path / "one.png", tmp_path / "blob.png"
    Image.fromarray(255 - render_strokes([[(140, 30), (140, 250)]])).save(one)
    Image.fromarray(255 - render_strokes(filled_blob(np.random.default_rng(0)))).save(blob)
    capsys.readouterr()
    assert cli.main(["predict", str(model), str(one), "--only", "letters"]) == 0
    guesses = capsys.readouterr().out.split("\t")[1].split()[::2]
    assert len(guesses) == 3
    assert all(char.isalpha() for char in guesses)
    assert cli.main(["predict", str(model), str(one), "--only", "digits"]) == 0
    assert capsys.readouterr().out.split("\t")[1].split()[0] == "1"
    assert cli.main(["predict", str(model), str(blob), str(one), "--refuse"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == f"{blob}\tI can't read this: it looks like a filled-in patch, not a character"
    assert lines[1].startswith(f"{one}\t")
    assert cli.main(["predict", str(model), str(blob)]) == 0  # without --refuse it still guesses, as before
    assert len(capsys.readouterr().out.split("\t")[1].split()) == 6
