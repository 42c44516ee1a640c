"""End to end in a real browser: the word pad on a page that Voilà serves (it connects after the kernel drew).

The page must get the canvas drawn again (white paper), show what the CRNN reads after a stroke drawn with the
mouse and one drawn with a finger, and wipe it all on Clear, with no errors in the page.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from browser_support import (
    BROWSER_MARKS,
    browser_page,
    draw_with_finger,
    draw_with_mouse,
    voila,
    wait_for_pixels,
)

from hcr_utils import config

pytest_plugins = ["widget_fixtures"]
pytestmark = BROWSER_MARKS

ONE = [(100, 40), (100, 100), (100, 160)]  # canvas pixels: a vertical bar
SEVEN = [(300, 40), (380, 40), (330, 160)]


@pytest.fixture(scope="module")
def pad_url(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> Iterator[str]:
    """Voilà serving a one-cell notebook that shows a WordPad, on a free 127.0.0.1 port."""
    base = tmp_path_factory.mktemp("voila_words")
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("from hcr_utils.word_pad import WordPad\n\nWordPad()")]
    )
    notebook.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nbformat.write(notebook, base / "words.ipynb")
    with voila(base / "words.ipynb", base, models_dir) as url:
        yield url


def test_the_word_pad_draws_and_reads_in_a_late_page(pad_url: str) -> None:
    from playwright.sync_api import expect

    with browser_page(touch=True) as (page, _):
        page.goto(pad_url)
        pad = page.locator(".hcr-word-pad")
        expect(pad.locator(".hcr-status")).to_contain_text("Write a word", timeout=60_000)
        canvas = pad.locator(".hcr-canvas")
        expect(canvas).to_be_visible()
        wait_for_pixels(canvas, "white > 0.95")  # white paper on the canvas

        draw_with_mouse(page, canvas, ONE)
        expect(pad.locator(".hcr-read-char").first).to_be_visible(timeout=20_000)
        wait_for_pixels(canvas, "dark > 0.005")  # the stroke shows as ink
        draw_with_finger(canvas, SEVEN)
        expect(pad.locator(".hcr-read-char")).to_have_count(2, timeout=20_000)  # a bar and a 7, far apart
        page.screenshot(path=str(config.outputs_dir() / "word_pad_e2e.png"))

        pad.get_by_role("button", name="Clear").click()
        expect(pad.locator(".hcr-status")).to_contain_text("Write a word")
        expect(pad.locator(".hcr-read-char")).to_have_count(0)
        wait_for_pixels(canvas, "dark < 0.001")  # Clear wipes the canvas
