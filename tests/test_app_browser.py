"""End to end in a real browser: the drawing pad as a web page (Voilà serving notebooks/app.ipynb).

Voilà runs the notebook before the page connects, so the page must get the canvas drawn again
(hcr_utils.pen.resend_canvas_switch): white paper, round ink, no errors in the page. The test
starts Voilà on 127.0.0.1, draws a 7 with the mouse and a 1 with a finger (touch events),
switches to characters, saves a screenshot to outputs/ and stops every process by its id.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from browser_support import (
    BROWSER_MARKS,
    SEVEN,
    browser_page,
    canvas_pixels,
    draw_with_finger,
    draw_with_mouse,
    voila,
    wait_for_pixels,
)
from PIL import Image

from hcr_utils import config
from hcr_utils.datasets import Dataset

pytest_plugins = ["widget_fixtures"]
pytestmark = BROWSER_MARKS

APP = config.PROJECT_ROOT / "notebooks" / "app.ipynb"
ONE = [(140, 40), (140, 150), (140, 250)]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> Iterator[str]:
    """Voilà serving a copy of the app notebook on a free 127.0.0.1 port, as `make app` starts it."""
    base = tmp_path_factory.mktemp("voila")
    shutil.copy(APP, base / APP.name)
    with voila(base / APP.name, base, models_dir) as url:
        yield url


def upload(page, pad, path: Path) -> None:
    """Click Upload and choose ``path`` in the file chooser, as a user does."""
    with page.expect_file_chooser() as chooser:
        pad.get_by_role("button", name="Upload").click()
    chooser.value.set_files(str(path))


def test_the_web_page_draws_and_reads(app_url: str, tmp_path: Path, mnist_sample: Dataset) -> None:
    from playwright.sync_api import expect

    with browser_page(touch=True) as (page, _):
        started = time.perf_counter()
        page.goto(app_url)
        pad = page.locator(".hcr-pad")
        expect(pad.locator(".hcr-status")).to_contain_text("Draw a character", timeout=60_000)
        canvas = pad.locator(".hcr-canvas")
        expect(canvas).to_be_visible()
        ready = time.perf_counter() - started
        wait_for_pixels(canvas, "white > 0.95")  # white paper on the canvas

        draw_with_mouse(page, canvas, SEVEN)
        lifted = time.perf_counter()
        expect(pad.locator(".hcr-rank1 .hcr-char")).to_have_text("7", timeout=20_000)
        answered = time.perf_counter() - lifted
        expect(pad.locator(".hcr-char")).to_have_count(3)
        shown = canvas_pixels(canvas)
        assert shown["dark"] > 0.03, f"the stroke shows as ink: {shown}"
        page.screenshot(path=str(config.outputs_dir() / "app_e2e.png"))

        pad.get_by_role("button", name="Clear").click()
        expect(pad.locator(".hcr-status")).to_contain_text("Draw a character")
        wait_for_pixels(canvas, "dark < 0.001")  # Clear wipes the canvas

        scroll = page.evaluate("() => window.scrollY")
        draw_with_finger(canvas, ONE)
        expect(pad.locator(".hcr-rank1 .hcr-char")).to_have_text("1", timeout=20_000)
        assert page.evaluate("() => window.scrollY") == scroll, "drawing with a finger does not scroll the page"

        pad.get_by_role("button", name="Undo").click()
        expect(pad.locator(".hcr-status")).to_contain_text("Draw a character")

        photo, notes = tmp_path / "digit.png", tmp_path / "notes.png"
        Image.fromarray(255 - np.kron(mnist_sample.x_test[0], np.ones((8, 8), np.uint8))).save(photo)  # dark on white
        notes.write_bytes(b"%PDF-1.4 not an image")
        upload(page, pad, notes)
        expect(pad.locator(".hcr-status")).to_contain_text("Could not read notes.png", timeout=20_000)
        upload(page, pad, photo)
        expect(pad.locator(".hcr-rank1 .hcr-char")).to_have_text(
            mnist_sample.classes[mnist_sample.y_test[0]], timeout=20_000
        )
        wait_for_pixels(canvas, "dark > 0.01")  # the uploaded picture shows on the canvas

        draw_with_mouse(page, canvas, SEVEN)
        pad.get_by_role("button", name="Characters").click()
        expect(pad.locator(".hcr-source")).to_contain_text("emnist_cnn.keras", timeout=20_000)
        expect(pad.locator(".hcr-char")).to_have_count(3)
        print(f"page ready {ready:.1f} s after the request; guess {answered:.2f} s after the pen was lifted")
