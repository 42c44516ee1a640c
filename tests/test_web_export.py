"""The web page's side of the course without a browser: the batch-1 export and the files beside it, the build's
care with folders, and the page's JavaScript preprocessing (run by Node) against hcr_utils on the same strokes.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from drawings import filled_blob

from hcr_utils import config, rejection
from hcr_utils.datasets import Dataset
from hcr_utils.export import calibration_images, export_for_web, reading_path, reading_settings
from hcr_utils.inference import LiteRTModel, Recognizer, labels_path
from hcr_utils.preprocessing import BlankImageError, prepare
from hcr_utils.rejection import Features, features, unreadable
from hcr_utils.samples import read_samples
from hcr_utils.strokes import centre_line_strokes
from hcr_utils.widget import BRUSH_WIDTH, SIZE, render_strokes

pytest_plugins = ["widget_fixtures"]

WEB = config.PROJECT_ROOT / "web"
INT8_AGREEMENT = 0.97  # top-1 agreement of the int8 web file with the Keras model on sample test images
RASTER_MISMATCH = 0.01  # share of the ink pixels where the page's brush may differ from Pillow's (stroke joints)
SEEN_TOLERANCE = 48  # grey levels of the 28×28 input those few pixels may move


def _build_module():
    spec = importlib.util.spec_from_file_location("web_build", WEB / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def mnist_web(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> Path:
    """The MNIST model exported for the web in float32."""
    return export_for_web(Recognizer.load(models_dir / "mnist_cnn.keras"), tmp_path_factory.mktemp("web"), "float32")


def test_web_export_reads_one_picture_a_call_like_keras(
    mnist_web: Path, models_dir: Path, mnist_sample: Dataset
) -> None:
    assert mnist_web.name == "mnist_cnn.tflite"
    lite = Recognizer.load(mnist_web)
    assert isinstance(lite.model, LiteRTModel)
    assert list(lite.model.interpreter.get_input_details()[0]["shape_signature"]) == [1, 28, 28, 1]  # no -1
    keras_recognizer = Recognizer.load(models_dir / "mnist_cnn.keras")
    images = mnist_sample.x_test[:40]
    single = np.concatenate([lite.probabilities(image[None]) for image in images])
    assert np.allclose(single, keras_recognizer.probabilities(images), atol=1e-4)


def test_web_export_writes_labels_and_the_refusal_rule(mnist_web: Path, models_dir: Path) -> None:
    assert labels_path(mnist_web).read_text() == labels_path(models_dir / "mnist_cnn.keras").read_text()
    settings = json.loads(reading_path(mnist_web).read_text())
    assert settings == reading_settings("mnist")
    refusal = settings["refusal"]
    assert (refusal["max_solid"], refusal["max_aspect"], refusal["min_top3"], refusal["solid_depth"]) == (
        rejection.MAX_SOLID["mnist"],
        rejection.MAX_ASPECT["mnist"],
        rejection.MIN_TOP3["mnist"],
        rejection.SOLID_DEPTH,
    )
    readable = Features(confidence=0.9, margin=0.8, top3=0.99, entropy=0.1, solid=0.0, aspect=1.0)
    for name, value in (
        ("solid", refusal["max_solid"] + 0.01),
        ("aspect", refusal["max_aspect"] + 0.01),
        ("top3", refusal["min_top3"] - 0.01),
    ):
        tripped = Features(**{**readable.__dict__, name: value})
        assert unreadable(tripped, "mnist") == refusal["reasons"][name]
    with pytest.raises(ValueError, match="unknown dataset"):
        reading_settings("kmnist")


def test_int8_web_export_is_small_and_agrees(tmp_path: Path, models_dir: Path, emnist_sample: Dataset) -> None:
    keras_recognizer = Recognizer.load(models_dir / "emnist_cnn.keras")
    path = export_for_web(keras_recognizer, tmp_path, "int8", calibration_images(emnist_sample))
    assert path.stat().st_size < (models_dir / "emnist_cnn.keras").stat().st_size / 3
    lite = Recognizer.load(path)
    images = emnist_sample.x_test[:150]
    answers = [lite.best(image, 1)[0][0] for image in images]
    reference = [keras_recognizer.best(image, 1)[0][0] for image in images]
    assert np.mean(np.array(answers) == np.array(reference)) >= INT8_AGREEMENT
    with pytest.raises(ValueError, match="calibration"):
        export_for_web(keras_recognizer, tmp_path, "int8")


def test_the_build_replaces_only_a_folder_it_built(tmp_path: Path) -> None:
    build = _build_module()
    learner = tmp_path / "notes"
    learner.mkdir()
    (learner / "mine.txt").write_text("keep me")
    staged = tmp_path / "staged"
    staged.mkdir()
    with pytest.raises(build.BuildError, match="not a page built here"):
        build._replace(staged, learner)
    assert (learner / "mine.txt").read_text() == "keep me"
    earlier = tmp_path / "site"
    earlier.mkdir()
    (earlier / build.MANIFEST).write_text("{}")
    (staged / build.MANIFEST).write_text('{"new": true}')
    build._replace(staged, earlier)
    assert json.loads((earlier / build.MANIFEST).read_text()) == {"new": True} and not staged.exists()


# --- the page's preprocessing (web/src/reading.js) against hcr_utils ------------------------------------------------
NODE_DRIVER = """
import * as reading from %s;
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const {cases, emnist, mnist} = JSON.parse(Buffer.concat(chunks));
const read = (picture) => {
    try {
        const ink = reading.inkMap(Uint8Array.from(picture), %d);
        const shape = reading.features([0.5, 0.3, 0.2], ink, emnist);
        return {emnist: Array.from(reading.prepare(ink, emnist)), mnist: Array.from(reading.prepare(ink, mnist)),
                solid: shape.solid, aspect: shape.aspect};
    } catch (err) {
        if (!(err instanceof reading.BlankDrawing)) throw err;
        return {blank: err.message};
    }
};
const out = cases.map(({strokes, picture}) => {
    const own = reading.renderStrokes(strokes, %d, %d);
    return {picture: Array.from(own), fromPillow: read(picture), fromOwn: read(own)};
});
process.stdout.write(JSON.stringify(out));
"""


def _python_reading(picture: np.ndarray) -> dict:
    try:
        shape = features(np.array([0.5, 0.3, 0.2]), picture)
        return {
            "emnist": prepare(picture, "emnist"),
            "mnist": prepare(picture, "mnist"),
            "solid": shape.solid,
            "aspect": shape.aspect,
        }
    except BlankImageError as err:
        return {"blank": str(err)}


@pytest.fixture(scope="module")
def page_and_python(emnist_sample: Dataset) -> list[tuple[dict, dict, np.ndarray]]:
    """Real pad drawings, sample characters redrawn as strokes, a coloured-in patch and a speck: for each,
    what reading.js makes of it (from Pillow's rasterisation and from its own), Python's reading, and Pillow's picture."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("needs Node.js (apt-get install -y nodejs)")
    strokes = [sample.strokes for sample in read_samples(config.SAMPLE_DIR / "pad_drawings.jsonl")[:30]]
    strokes += [centre_line_strokes(image) for image in emnist_sample.x_test[:30]]
    strokes += [
        filled_blob(np.random.default_rng(0)),
        [[(60.5, 60.2), (220.7, 60.9), (120.3, 250.1)]],
        [[(140.0, 140.0)]],
    ]
    pictures = [render_strokes(each) for each in strokes]
    request = {
        "cases": [
            {"strokes": [[list(point) for point in stroke] for stroke in each], "picture": picture.ravel().tolist()}
            for each, picture in zip(strokes, pictures)
        ],
        "emnist": reading_settings("emnist"),
        "mnist": reading_settings("mnist"),
    }
    script = NODE_DRIVER % (json.dumps((WEB / "src" / "reading.js").as_uri()), SIZE, SIZE, BRUSH_WIDTH)
    result = subprocess.run(
        [node, "--input-type=module", "-e", script],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return [(page, _python_reading(picture), picture) for page, picture in zip(json.loads(result.stdout), pictures)]


def test_page_prepares_pillows_picture_exactly_as_python(page_and_python) -> None:
    for page, python, _ in page_and_python:
        assert page["fromPillow"].keys() == python.keys()
        if "blank" in python:
            assert page["fromPillow"]["blank"] == python["blank"]
            continue
        assert np.array_equal(page["fromPillow"]["emnist"], python["emnist"].ravel())
        assert np.abs(np.array(page["fromPillow"]["mnist"]) - python["mnist"].ravel().astype(int)).max() <= 1
        assert page["fromPillow"]["solid"] == pytest.approx(python["solid"], abs=1e-9)
        assert page["fromPillow"]["aspect"] == pytest.approx(python["aspect"], abs=1e-9)


def test_page_brush_draws_strokes_as_the_notebook_pad(page_and_python) -> None:
    for page, python, picture in page_and_python:
        own = np.array(page["picture"], np.uint8).reshape(picture.shape)
        assert np.mean(own != picture) * picture.size <= RASTER_MISMATCH * max(1, np.count_nonzero(picture))
        if "blank" in python:
            assert page["fromOwn"] == {"blank": python["blank"]}
            continue
        assert (
            np.abs(np.array(page["fromOwn"]["emnist"]) - python["emnist"].ravel().astype(int)).max() <= SEEN_TOLERANCE
        )
    exact = sum(np.array_equal(page["picture"], picture.ravel()) for page, _, picture in page_and_python)
    assert exact >= 0.9 * len(page_and_python)  # dots and most lines: pixel for pixel
