"""The static web page in a real browser: built once with web/build.py, served on 127.0.0.1, drawn on with
the mouse and a finger in headless Chromium, and read as the Python Recognizer reads the same strokes.

Needs Debian's chromium (tests/browser_support.py) and npm (the build installs LiteRT.js with `npm ci`).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest
from browser_support import BROWSER_MARKS, SEVEN, browser_page, draw_with_mouse, free_port, server
from drawings import scribble

from hcr_utils import config
from hcr_utils.inference import Recognizer
from hcr_utils.widget import render_strokes

pytest_plugins = ["widget_fixtures"]
pytestmark = [
    *BROWSER_MARKS,
    pytest.mark.skipif(shutil.which("npm") is None, reason="needs npm (apt-get install -y nodejs npm)"),
]

BUILD = config.PROJECT_ROOT / "web" / "build.py"
CIRCLE = [(140 + 80 * np.sin(a), 140 - 100 * np.cos(a)) for a in np.linspace(0, 2 * np.pi, 25)]  # an O or a 0
SEEN_TOLERANCE = 48  # grey levels: the page's brush differs from Pillow's by a few edge pixels at stroke joints
PROBABILITY_TOLERANCE = 0.02


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> Path:
    """The page built once (int8 models) into a temporary folder."""
    out = tmp_path_factory.mktemp("web") / "site"
    env = {**os.environ, "PYTHONPATH": str(config.PROJECT_ROOT)}
    result = subprocess.run(
        [sys.executable, str(BUILD), "--out", str(out), "--models-dir", str(models_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return out


@pytest.fixture(scope="session")
def served(site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The address of the built page, served by Python's static file server on 127.0.0.1."""
    with _serve(site, tmp_path_factory.mktemp("server")) as url:
        yield url


@contextlib.contextmanager
def _serve(folder: Path, logs: Path) -> Iterator[str]:
    """Serve ``folder`` on a free port of 127.0.0.1 while the block runs."""
    port = free_port()
    command = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(folder)]
    with server(command, dict(os.environ), f"http://127.0.0.1:{port}/", logs / "server.log"):
        yield f"http://127.0.0.1:{port}/"


@pytest.fixture(scope="session")
def lite(site: Path) -> Recognizer:
    """The Python Recognizer of the very file the page reads."""
    return Recognizer.load(site / "models" / "emnist_cnn.tflite")


def draw_with_touchscreen(page, canvas, points: list[tuple[float, float]], steps: int = 6) -> None:
    """A finger's stroke through Chromium's own touch input (which makes the pointer events a phone sends)."""
    box = canvas.bounding_box()
    session = page.context.new_cdp_session(page)
    path = [points[0]] + [
        (x0 + (x1 - x0) * s / steps, y0 + (y1 - y0) * s / steps)
        for (x0, y0), (x1, y1) in itertools.pairwise(points)
        for s in range(1, steps + 1)
    ]
    for kind, (x, y) in [("touchStart", path[0]), *(("touchMove", point) for point in path[1:])]:
        session.send(
            "Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": box["x"] + x, "y": box["y"] + y}]}
        )
    session.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    session.detach()


def _open(page, url: str) -> list[str]:
    """Open the page and wait until it can read; the addresses it asked for."""
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(url)
    page.wait_for_function("document.body.dataset.state !== 'loading'", timeout=30_000)
    assert page.evaluate("document.body.dataset.state") == "ready", page.text_content("#problem")
    return requests


def _reads(page) -> int:
    return int(page.get_attribute("#pad", "data-reads") or 0)


def _settle(page) -> None:
    page.evaluate("window.hcrPad.settled()")


def _guesses(page) -> list[tuple[str, float]]:
    cells = page.locator("#guesses .char")
    return [
        (cells.nth(i).text_content(), float(cells.nth(i).get_attribute("data-probability")))
        for i in range(3)
        if cells.nth(i).text_content()
    ]


def _strokes(page) -> list[list[tuple[float, float]]]:
    return [[tuple(point) for point in stroke] for stroke in page.evaluate("window.hcrPad.strokes")]


def _same_as_python(page, recognizer: Recognizer, allowed: str | None = None) -> None:
    """The page's guesses and 28×28 input are the Recognizer's for the strokes the page recorded."""
    reading = recognizer.read(render_strokes(_strokes(page)), 3, allowed)
    page_reading = page.evaluate("window.hcrPad.stats.lastReading")
    assert page_reading["refusal"] == reading.refusal
    shown = _guesses(page)
    assert [char for char, _ in shown][:1] == [char for char, _ in reading.guesses][:1]
    for (_, page_probability), (_, probability) in zip(shown, reading.guesses):
        assert abs(page_probability - probability) < PROBABILITY_TOLERANCE
    seen = np.array(page_reading["seen"]).reshape(28, 28)
    assert np.abs(seen - reading.seen.astype(int)).max() <= SEEN_TOLERANCE


def test_mouse_drawing_shows_the_top_three_as_python_reads_it(served: str, lite: Recognizer) -> None:
    with browser_page() as (page, errors):
        requests = _open(page, served)
        assert page.text_content("#status") == "Draw a character" and page.text_content("#guess-1") == ""
        assert "Reading with your model (emnist_cnn.keras), int8" in page.text_content("#source")  # models_dir's copy
        draw_with_mouse(page, page.locator("#pad"), SEVEN)
        _settle(page)
        shown = _guesses(page)
        assert len(shown) == 3 and shown[0][0] == "7", shown
        probabilities = [p for _, p in shown]
        assert probabilities == sorted(probabilities, reverse=True) and 0 < sum(probabilities) <= 1.0001
        width = page.evaluate("document.querySelector('#guesses li .bar span').style.width")
        assert width == f"{100 * probabilities[0]:.1f}%"
        _same_as_python(page, lite)
        assert page.evaluate("window.hcrPad.stats.lastReading.seen").count(0) < 784  # the 28×28 picture is shown
        assert errors == []
        assert {urlparse(url).hostname for url in requests if not url.startswith("data:")} == {"127.0.0.1"}


def test_finger_undo_clear_and_the_keyboard(served: str, lite: Recognizer) -> None:
    with browser_page(touch=True) as (page, errors):
        _open(page, served)
        canvas = page.locator("#pad")
        draw_with_touchscreen(page, canvas, SEVEN[:2])  # the bar of a 7
        draw_with_touchscreen(page, canvas, SEVEN[1:])  # and its leg
        _settle(page)
        assert len(_strokes(page)) == 2 and page.text_content("#guess-1") == "7"
        _same_as_python(page, lite)
        page.get_by_role("button", name="Undo").click()
        _settle(page)
        assert len(_strokes(page)) == 1
        _same_as_python(page, lite)
        page.get_by_role("button", name="Clear").focus()
        page.keyboard.press("Enter")
        _settle(page)
        assert _strokes(page) == [] and page.text_content("#guess-1") == ""
        assert page.text_content("#status") == "Draw a character"
        assert page.evaluate("getComputedStyle(document.querySelector('#pad')).touchAction") == "none"
        assert errors == []


def test_answers_switch_restricts_to_digits_or_letters(served: str, lite: Recognizer) -> None:
    with browser_page() as (page, errors):
        _open(page, served)
        draw_with_mouse(page, page.locator("#pad"), CIRCLE)
        _settle(page)
        for allowed, is_allowed in (("digits", str.isdigit), ("letters", str.isalpha)):
            page.get_by_label(allowed.capitalize(), exact=True).check()
            _settle(page)
            shown = _guesses(page)
            assert shown and all(is_allowed(char) for char, _ in shown), (allowed, shown)
            _same_as_python(page, lite, allowed)
        assert errors == []


def test_digits_mode_reads_with_the_mnist_model(served: str, site: Path) -> None:
    with browser_page() as (page, errors):
        _open(page, served)
        draw_with_mouse(page, page.locator("#pad"), SEVEN)
        page.get_by_label("Digits only (MNIST)").check()
        page.wait_for_function("document.querySelector('#source').textContent.includes('mnist')")
        _settle(page)
        assert page.is_hidden("#answers")
        _same_as_python(page, Recognizer.load(site / "models" / "mnist_cnn.tflite"))
        assert page.text_content("#guess-1") == "7"
        assert errors == []


def _refused_scribble(recognizer: Recognizer) -> list[list[tuple[float, float]]]:
    """The first scribble, by seed, that ``recognizer`` refuses in Python: the page must refuse it too."""
    for seed in range(50):
        strokes = scribble(np.random.default_rng(seed))
        if recognizer.read(render_strokes(strokes)).refusal:
            return strokes
    pytest.fail("none of 50 scribbles is refused in Python")


def test_a_scribble_is_refused_and_a_dot_is_too_small(served: str, lite: Recognizer) -> None:
    strokes = _refused_scribble(lite)
    with browser_page() as (page, errors):
        _open(page, served)
        canvas = page.locator("#pad")
        for stroke in strokes:
            draw_with_mouse(page, canvas, stroke)
        _settle(page)
        assert page.text_content("#status").startswith("I can't read this: ")
        assert page.text_content("#guess-1") == ""
        _same_as_python(page, lite)
        page.get_by_role("button", name="Clear").click()
        draw_with_mouse(page, canvas, [(140, 140), (142, 141)])
        _settle(page)
        assert page.text_content("#status") == "The mark is too small to be a character: draw it bigger"
        assert errors == []


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_a_missing_or_damaged_model_gets_a_clear_message(site: Path, tmp_path: Path, damage: str) -> None:
    broken = Path(shutil.copytree(site, tmp_path / "site"))
    model = broken / "models" / "emnist_cnn.tflite"
    if damage == "missing":
        model.unlink()
    else:
        model.write_bytes(b"not a model" * 100)
    with _serve(broken, tmp_path) as url, browser_page() as (page, errors):
        page.goto(url)
        page.wait_for_function("document.body.dataset.state === 'failed'", timeout=30_000)
        message = page.text_content("#problem")
        assert "models/emnist_cnn.tflite" in message and "make web-build" in message
        assert ("missing" if damage == "missing" else "damaged") in message
        assert page.is_visible("#problem")
        assert all("404" in error for error in errors), errors  # only the browser's note of the missing file
        errors.clear()  # that note is the browser's, expected here: browser_page fails on any other


def test_a_browser_without_webassembly_is_told_so(served: str) -> None:
    with browser_page() as (page, errors):
        page.add_init_script("delete window.WebAssembly")
        page.goto(served)
        page.wait_for_function("document.body.dataset.state === 'failed'", timeout=30_000)
        assert "cannot run WebAssembly" in page.text_content("#problem")
        assert errors == []


def test_the_page_reads_its_settings_from_the_export(site: Path) -> None:
    settings = json.loads((site / "pad.json").read_text())
    assert set(settings["modes"]) == {"characters", "digits"}
    for mode in settings["modes"].values():
        assert (site / mode["model"]).stat().st_size == mode["bytes"] and mode["quantization"] == "int8"
