"""Export for phones and the edge: .tflite files that read like the Keras model, clean errors, atomic writes."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from hcr_utils import cli, export
from hcr_utils.datasets import Dataset
from hcr_utils.export import calibration_images, export_onnx, export_saved_model, export_tflite
from hcr_utils.inference import LiteRTModel, Recognizer, labels_path
from hcr_utils.saved import read_labels

pytestmark = pytest.mark.slow  # every test here exports or runs exported models

pytest_plugins = ["widget_fixtures"]

INT8_AGREEMENT = 0.97  # top-1 agreement of the int8 file with the Keras model, on the 940 sample test images
INT8_ACCURACY_POINTS = 1.0  # int8 accuracy within this many points of the Keras model's
PREDICT_LINE = re.compile(r"^\S+\t\S \d\.\d{3}  \S \d\.\d{3}  \S \d\.\d{3}$")


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory, models_dir: Path, sample_dir: Path) -> dict[str, Path]:
    """The EMNIST model exported once through the command line: float32, dynamic-range and int8 .tflite files."""
    folder = tmp_path_factory.mktemp("exported")
    flags = {"float32": [], "dynamic": ["--dynamic"], "int8": ["--int8", "--data-dir", str(sample_dir / "emnist")]}
    paths = {}
    for quantization, extra in flags.items():
        paths[quantization] = folder / f"emnist_cnn_{quantization}.tflite"
        argv = [
            "export",
            str(models_dir / "emnist_cnn.keras"),
            "--format",
            "litert",
            *extra,
            "--out",
            str(paths[quantization]),
        ]
        assert cli.main(argv) == 0
    return paths


@pytest.fixture(scope="module")
def keras_probabilities(emnist_recognizer: Recognizer, emnist_sample: Dataset) -> np.ndarray:
    """The Keras model's probabilities for every sample test image."""
    return emnist_recognizer.probabilities(emnist_sample.x_test)


def _agreement(recognizer: Recognizer, images: np.ndarray, reference: np.ndarray) -> float:
    return float(np.mean(recognizer.probabilities(images).argmax(axis=1) == reference.argmax(axis=1)))


def test_export_prints_one_json_line_and_writes_the_labels(
    exported: dict[str, Path], models_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = exported["float32"].with_name("again.tflite")
    capsys.readouterr()
    assert cli.main(["export", str(models_dir / "emnist_cnn.keras"), "--format", "litert", "--out", str(out)]) == 0
    line = json.loads(capsys.readouterr().out)
    assert line["format"] == "litert"
    assert line["quantization"] == "float32"
    assert line["bytes"] == out.stat().st_size
    for path in exported.values():
        assert read_labels(path) == read_labels(models_dir / "emnist_cnn.keras")


def test_float_tflite_agrees_with_keras_on_every_sample_image(
    exported: dict[str, Path], emnist_sample: Dataset, keras_probabilities: np.ndarray
) -> None:
    lite = Recognizer.load(exported["float32"])
    assert isinstance(lite.model, LiteRTModel)
    assert lite.dataset == "emnist"
    assert len(lite.classes) == 47
    probabilities = lite.probabilities(emnist_sample.x_test)
    assert len(probabilities) == 940
    assert np.array_equal(probabilities.argmax(axis=1), keras_probabilities.argmax(axis=1))
    assert np.allclose(probabilities, keras_probabilities, atol=1e-4)


@pytest.mark.parametrize("quantization", ["dynamic", "int8"])
def test_quantised_tflite_stays_close_to_keras(
    exported: dict[str, Path], emnist_sample: Dataset, keras_probabilities: np.ndarray, quantization: str
) -> None:
    lite = Recognizer.load(exported[quantization])
    assert _agreement(lite, emnist_sample.x_test, keras_probabilities) >= INT8_AGREEMENT
    keras_accuracy = np.mean(keras_probabilities.argmax(axis=1) == emnist_sample.y_test)
    lite_accuracy = np.mean(lite.probabilities(emnist_sample.x_test).argmax(axis=1) == emnist_sample.y_test)
    assert abs(lite_accuracy - keras_accuracy) <= INT8_ACCURACY_POINTS / 100


def test_int8_file_is_at_most_a_third_of_the_float_file(exported: dict[str, Path]) -> None:
    assert exported["int8"].stat().st_size <= exported["float32"].stat().st_size / 3


def test_tflite_answers_through_the_same_methods(
    exported: dict[str, Path], emnist_recognizer: Recognizer, emnist_sample: Dataset, on_paper
) -> None:
    lite = Recognizer.load(exported["float32"])
    photo = on_paper(emnist_sample.x_test[0])
    assert np.array_equal(lite.prepare(photo), emnist_recognizer.prepare(photo))
    for mine, theirs in zip(lite.top_k(photo, k=3), emnist_recognizer.top_k(photo, k=3)):
        assert mine[0] == theirs[0]
        assert mine[1] == pytest.approx(theirs[1], abs=1e-4)
    assert lite.best(lite.prepare(photo), k=1)[0][0] == lite.top_k(photo, k=1)[0][0]


def test_integer_inputs_and_outputs_are_quantised_by_the_reader(
    tmp_path: Path,
    exported: dict[str, Path],
    emnist_recognizer: Recognizer,
    emnist_sample: Dataset,
    keras_probabilities: np.ndarray,
) -> None:
    """A model exported with int8 inputs and outputs (as microcontrollers want) is fed through its scale and zero point."""
    path = tmp_path / "int8_io.tflite"
    calibration = calibration_images(emnist_sample)
    emnist_recognizer.model.export(
        str(path),
        format="litert",
        verbose=False,
        optimizations=[tf.lite.Optimize.DEFAULT],
        representative_dataset=lambda: ([image[None, ..., None].astype(np.float32)] for image in calibration),
        target_spec={"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]},
        inference_input_type=tf.int8,
        inference_output_type=tf.int8,
    )
    shutil.copy(labels_path(exported["int8"]), labels_path(path))
    lite = Recognizer.load(path)
    assert lite.model.interpreter.get_input_details()[0]["dtype"] == np.int8
    assert _agreement(lite, emnist_sample.x_test, keras_probabilities) >= INT8_AGREEMENT


def test_predict_prints_the_same_lines_for_tflite_and_keras(
    exported: dict[str, Path], models_dir: Path, emnist_sample: Dataset, tmp_path: Path, capsys
) -> None:
    paths = []
    for i in range(5):  # sample test images as dark ink on white paper, like scans
        paths.append(str(tmp_path / f"char_{i}.png"))
        Image.fromarray(255 - emnist_sample.x_test[i]).resize((112, 112)).save(paths[-1])
    printed = {}
    for name, model in (("keras", models_dir / "emnist_cnn.keras"), ("tflite", exported["float32"])):
        capsys.readouterr()
        assert cli.main(["predict", str(model), *paths]) == 0
        printed[name] = capsys.readouterr().out.strip().splitlines()
    assert len(printed["tflite"]) == 5
    assert all(PREDICT_LINE.match(line) for line in printed["tflite"])
    for mine, theirs in zip(printed["tflite"], printed["keras"]):
        assert mine.split()[:2] == theirs.split()[:2]  # path and top-1 character
        assert float(mine.split()[2]) == pytest.approx(float(theirs.split()[2]), abs=1.5e-3)


def test_evaluate_scores_a_tflite_like_the_keras_model(
    exported: dict[str, Path], models_dir: Path, sample_dir: Path, capsys
) -> None:
    results = {}
    for model in (models_dir / "emnist_cnn.keras", exported["float32"]):
        capsys.readouterr()
        assert cli.main(["evaluate", str(model), "--dataset", "emnist", "--data-dir", str(sample_dir / "emnist")]) == 0
        results[model.suffix] = json.loads(capsys.readouterr().out)
    assert results[".tflite"]["n"] == 940
    assert {key: results[".tflite"][key] for key in ("accuracy", "top3")} == {
        key: results[".keras"][key] for key in ("accuracy", "top3")
    }


def _corrupt(path: Path, float_file: Path) -> None:
    path.write_bytes(float_file.read_bytes()[: float_file.stat().st_size // 2])


@pytest.mark.parametrize(
    "damage, message",
    [
        ("empty", "is not a readable .tflite model"),
        ("corrupt", "is not a readable .tflite model"),
        ("missing", "not found: create it by running notebooks/10_export_and_deploy.ipynb"),
        ("no labels", "labels file"),
        ("other labels", "47 probabilities for 10 classes"),
    ],
)
@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_bad_tflite_gives_one_line_and_exit_2(
    exported: dict[str, Path], models_dir: Path, tmp_path: Path, capsys, damage: str, message: str, command: str
) -> None:
    path = tmp_path / "emnist_cnn.tflite"
    if damage == "empty":
        path.write_bytes(b"")
    elif damage == "corrupt":
        _corrupt(path, exported["float32"])
    elif damage in ("no labels", "other labels"):
        shutil.copy(exported["float32"], path)
    if damage not in ("missing", "no labels"):
        labels = models_dir / ("mnist_cnn.keras" if damage == "other labels" else "emnist_cnn.keras")
        shutil.copy(labels_path(labels), labels_path(path))
    argv = {"predict": ["predict", str(path), "x.png"], "evaluate": ["evaluate", str(path), "--dataset", "emnist"]}
    assert cli.main(argv[command]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert err.count("\n") == 1
    assert message in err
    assert "Traceback" not in err


def test_unwritable_output_gives_one_line_and_writes_nothing(models_dir: Path, tmp_path: Path, capsys) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    out = blocker / "emnist_cnn.tflite"
    assert cli.main(["export", str(models_dir / "emnist_cnn.keras"), "--format", "litert", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err == f"error: cannot write to {blocker}: a file is in the way\n"
    assert sorted(tmp_path.iterdir()) == [blocker]


def test_a_failed_export_leaves_no_half_written_file(
    exported: dict[str, Path], emnist_recognizer: Recognizer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "emnist_cnn.tflite"
    shutil.copy(exported["float32"], out)
    before = out.read_bytes()

    def half_write(self: keras.Model, path: str, **kwargs: object) -> None:
        Path(path).write_bytes(b"TFL3 half a model")
        raise RuntimeError("converter crashed")

    monkeypatch.setattr(keras.Model, "export", half_write)
    with pytest.raises(RuntimeError, match="converter crashed"):
        export_tflite(emnist_recognizer, out)
    assert out.read_bytes() == before, "the previous export is kept whole"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["emnist_cnn.tflite"], "no temporary file is left"


def test_int8_needs_calibration_images(emnist_recognizer: Recognizer, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="calibration images"):
        export_tflite(emnist_recognizer, tmp_path / "m.tflite", "int8")
    with pytest.raises(ValueError, match="unknown quantization"):
        export_tflite(emnist_recognizer, tmp_path / "m.tflite", "int4")
    assert not list(tmp_path.iterdir())


def test_saved_model_and_onnx_read_like_keras(
    emnist_recognizer: Recognizer, emnist_sample: Dataset, keras_probabilities: np.ndarray, tmp_path: Path
) -> None:
    import onnxruntime

    batch = emnist_sample.x_test[:100, ..., None].astype(np.float32)
    expected = keras_probabilities[:100].argmax(axis=1)
    folder = export_saved_model(emnist_recognizer, tmp_path / "emnist_cnn_saved_model")
    export_saved_model(emnist_recognizer, folder)  # a second export replaces the folder whole
    loaded = tf.saved_model.load(str(folder))  # kept in a name: the endpoint needs the object alive
    served = loaded.serve([tf.constant(batch)]).numpy()  # a list: the model's one input, "pixels"
    assert np.array_equal(served.argmax(axis=1), expected)
    assert labels_path(folder).exists()
    session = onnxruntime.InferenceSession(str(export_onnx(emnist_recognizer, tmp_path / "emnist_cnn.onnx")))
    onnx_probabilities = session.run(None, {session.get_inputs()[0].name: batch})[0]
    assert np.array_equal(onnx_probabilities.argmax(axis=1), expected)
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "emnist_cnn.labels.json",
        "emnist_cnn.onnx",
        "emnist_cnn_saved_model",
        "emnist_cnn_saved_model.labels.json",
    ]


def test_calibration_images_are_a_fixed_draw_of_training_images(emnist_sample: Dataset) -> None:
    first, again = calibration_images(emnist_sample), calibration_images(emnist_sample)
    assert first.shape == (export.CALIBRATION_IMAGES, 28, 28)
    assert np.array_equal(first, again)
