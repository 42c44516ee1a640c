"""The word pad: write a word (or any line of characters) on a wide canvas and watch the CRNN read it live.

Like the character pad (:mod:`hcr_utils.widget`), it holds a
:class:`~hcr_utils.pen.Pen`, rasterises the strokes with a round brush and reads them after every stroke,
and now and then while you write; it shows each character read with its
probability, and the word of the shipped list that the line most likely writes.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

import ipywidgets as widgets
from ipycanvas import Canvas, hold_canvas

from . import config
from .errors import HcrError
from .pen import PAPER, TOUCH_STYLE, Pen, of_the_pen
from .saved import describe_source
from .strokes import render_strokes
from .widget import message
from .words import Lexicon, LineReading, WordReader, find_reader

WIDTH, HEIGHT = 840, 200  # canvas pixels: room for a word of ten letters
BRUSH_WIDTH = 16  # pen diameter: strokes as thick, relative to a letter 120 pixels tall, as EMNIST's
WRITE_PROMPT = "Write a word"


def characters_html(characters: Sequence[tuple[str, float]]) -> str:
    """Each character read, in a box shaded by its probability, with the probability under it."""
    boxes = []
    for char, prob in characters:
        colour = "#2a7ab9" if prob >= 0.8 else "#d08a1c" if prob >= 0.5 else "#c0392b"
        boxes.append(
            f'<div class="hcr-read-char" style="display:inline-block;text-align:center;margin:2px">'
            f'<div class="hcr-char" style="font:bold 30px monospace;width:34px;border-bottom:4px solid '
            f'{colour}">{html.escape(char)}</div>'
            f'<div style="font:11px monospace;color:{colour}">{100 * prob:.0f}%</div></div>'
        )
    return '<div class="hcr-line">' + "".join(boxes) + "</div>"


class WordPad(widgets.VBox):
    """A wide canvas, Clear/Undo, the characters read with their probabilities, and the likeliest word of the list."""

    def __init__(self, models_dir: Path | str | None = None, lexicon: Lexicon | None = None) -> None:
        super().__init__()
        self.add_class("hcr-word-pad")
        self.models_dir = Path(models_dir) if models_dir is not None else config.models_dir()
        self.reading: LineReading | None = None
        self.word: str | None = None  # the word of the list that the drawing most likely writes
        self._lexicon = lexicon
        self._reader: WordReader | None = None

        self.canvas = Canvas(
            width=WIDTH,
            height=HEIGHT,
            sync_image_data=False,
            layout=widgets.Layout(width=f"{WIDTH}px", height=f"{HEIGHT}px", border="1px solid #999"),
        )
        self.canvas.add_class("hcr-canvas")
        self.pen = Pen(self.canvas, BRUSH_WIDTH, changed=lambda: self.read(), repaint=lambda: self._paint())
        self.clear_button = widgets.Button(description="Clear", icon="eraser", layout=widgets.Layout(width="84px"))
        self.undo_button = widgets.Button(description="Undo", icon="undo", layout=widgets.Layout(width="84px"))
        self.characters = widgets.HTML()
        self.word_html = widgets.HTML()
        self.word_html.add_class("hcr-word")
        self.status = widgets.HTML()
        self.status.add_class("hcr-status")
        self.source = widgets.HTML()
        self.source.add_class("hcr-source")

        self.clear_button.on_click(lambda _: self.pen.clear())
        self.undo_button.on_click(lambda _: self.pen.undo())
        self.children = [
            widgets.HTML(TOUCH_STYLE),
            self.canvas,
            widgets.HBox([self.clear_button, self.undo_button]),
            self.characters,
            self.word_html,
            self.status,
            self.source,
        ]
        self._paint()
        self.read()

    strokes = of_the_pen("strokes", "The strokes written, each a list of (x, y) canvas points.")
    draw = of_the_pen("draw")
    undo = of_the_pen("undo")
    clear = of_the_pen("clear")

    def _paint(self) -> None:
        """Redraw the canvas from the strokes the pad holds."""
        with hold_canvas():
            self.canvas.fill_style = PAPER
            self.canvas.fill_rect(0, 0, WIDTH, HEIGHT)
            self.pen.paint()

    def reader(self) -> WordReader:
        """Your word model from ``models_dir`` if you trained one, else the shipped one; loaded once."""
        if self._reader is None:
            path = find_reader(self.models_dir)
            self._reader = WordReader.load(path)
            if self._lexicon is not None:
                self._reader = WordReader(self._reader.model, self._reader.classes, self._lexicon)
            self.source.value = f'<small style="color:#666">Reading with {html.escape(describe_source(path))}</small>'
        return self._reader

    def read(self) -> None:
        """Show the characters read with their probabilities and the likeliest word, or say what is wrong."""
        self.reading, self.word = None, None
        try:
            reader = self.reader()
            if not self.strokes:
                self._show(WRITE_PROMPT)
                return
            self.reading = reader.read_with_scores(render_strokes(self.strokes, (WIDTH, HEIGHT), BRUSH_WIDTH))
            self.word = reader.word(self.reading.probabilities)
            self._show("")
        except HcrError as err:  # a missing model, a blank picture
            self._show(message(err))

    def _show(self, message: str) -> None:
        self.characters.value = characters_html(self.reading.characters if self.reading else [])
        self.word_html.value = (
            ""
            if self.reading is None
            else f"In the word list: <b>{html.escape(self.word)}</b>"
            if self.word
            else "No word of the list fits"
        )
        self.status.value = f'<span style="color:#a33">{html.escape(message)}</span>' if message else ""
