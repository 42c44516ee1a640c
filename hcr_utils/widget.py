"""A drawing pad that reads handwriting live: draw a character, see the model's top-3 guesses.

The kernel receives every stroke point from the browser, so the pad keeps the
strokes itself (which gives Undo) and rasterises them with a round brush for
the model; it never waits for the canvas's pixels to sync back.
"""

from __future__ import annotations

import html
import io
import time
from collections.abc import Sequence
from pathlib import Path

import ipywidgets as widgets
import numpy as np
from ipycanvas import Canvas, hold_canvas
from PIL import Image, ImageDraw

from . import config
from .inference import ModelNotFoundError, Recognizer, describe_source, find_model
from .preprocessing import decode_image
from .samples import Sample, append_sample, default_path, label_for, read_samples

SIZE = 280  # canvas side in pixels, 10× the model's 28×28
BRUSH_WIDTH = 32  # pen diameter in canvas pixels: strokes as thick, relative to the character, as EMNIST's
LIVE_INTERVAL_S = 0.15  # while drawing, read the drawing at most this often
TOP_K = 3
MODELS = {"digits": "mnist_cnn.keras", "characters": "emnist_cnn.keras"}
ANSWERS = [("All", "all"), ("Digits", "digits"), ("Letters", "letters")]  # what Characters mode may answer
# the canvas takes touches for drawing, never for scrolling the page (ipycanvas also stops their default action)
TOUCH_STYLE = "<style>.hcr-canvas, .hcr-canvas canvas { touch-action: none; }</style>"
DRAW_PROMPT = "Draw a character"
INK, PAPER = "#111111", "#ffffff"

Point = tuple[float, float]


def render_strokes(strokes: Sequence[Sequence[Point]], size: int | tuple[int, int] = SIZE,
                   width: int = BRUSH_WIDTH) -> np.ndarray:
    """Rasterise strokes as white round-brush lines on black: a size×size uint8 image (or ``size`` = (width, height))."""
    image = Image.new("L", (size, size) if isinstance(size, int) else size, 0)
    draw = ImageDraw.Draw(image)
    radius = width / 2
    for stroke in strokes:
        if len(stroke) > 1:
            draw.line([tuple(point) for point in stroke], fill=255, width=width, joint="curve")
        for x, y in (stroke[0], stroke[-1]):  # round ends; a stroke of one point is a dot
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
    return np.asarray(image)


def _png(image: np.ndarray, scale: int) -> bytes:
    """PNG bytes of a grey image enlarged ``scale`` times with crisp pixels."""
    big = Image.fromarray(image).resize((image.shape[1] * scale, image.shape[0] * scale), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    big.save(buffer, format="PNG")
    return buffer.getvalue()


def bars_html(predictions: Sequence[tuple[str, float]]) -> str:
    """The guesses as HTML confidence bars, best first (characters in ``.hcr-char`` spans)."""
    rows = []
    for rank, (char, prob) in enumerate(predictions, start=1):
        rows.append(
            f'<div class="hcr-guess hcr-rank{rank}" style="display:flex;align-items:center;gap:8px;margin:4px 0">'
            f'<span class="hcr-char" style="font:bold 28px monospace;width:28px;text-align:center">'
            f"{html.escape(char)}</span>"
            f'<div style="width:160px;height:16px;background:#e8e8e8;border-radius:3px">'
            f'<div style="width:{100 * prob:.1f}%;height:100%;background:#2a7ab9;border-radius:3px"></div></div>'
            f'<span style="font-family:monospace">{100 * prob:5.1f}%</span></div>'
        )
    return '<div class="hcr-predictions">' + "".join(rows) + "</div>"


def uploaded_files(value: Sequence[dict] | dict) -> list[tuple[str, bytes]]:
    """(name, bytes) of each file in a FileUpload value: ipywidgets 8 (a tuple of dicts) or 7 (a dict by name)."""
    if isinstance(value, dict):  # ipywidgets 7: {name: {"metadata": {...}, "content": bytes}}
        return [(name, bytes(item["content"])) for name, item in value.items()]
    return [(item["name"], bytes(item["content"])) for item in value]


def resend_canvas_switch(canvas: Canvas) -> None:
    """Make ipycanvas tell the browser again which canvas its next drawing commands are for.

    ipycanvas keeps no drawing state and sends that "switch canvas" command only
    when the target changes. A page that connects after the kernel drew (Voilà
    runs the notebook first; a browser reload starts a new page) never received
    it, and every later command fails in the browser. ipycanvas 0.14 has no
    public way to resend it: this resets its private record of the current
    canvas (tests/test_widget.py fails loudly if that changes).
    """
    canvas._canvas_manager._current_canvas = None


class StrokePad:
    """The pen of a pad, shared by :class:`DrawingPad` and the word pad: strokes kept in Python and read on the fly.

    A pad sets ``canvas``, ``strokes`` (empty), ``brush_width``, ``_drawing``
    and ``_last_read``, calls :meth:`_listen` once, and defines ``read`` and
    ``_paint`` (which calls :meth:`_paint_strokes`).
    """

    brush_width = BRUSH_WIDTH

    def _listen(self) -> None:
        """Send the canvas's mouse and touch events to the pen."""
        for handler, register in ((self._start, self.canvas.on_mouse_down), (self._move, self.canvas.on_mouse_move),
                                  (self._end, self.canvas.on_mouse_up), (self._end, self.canvas.on_mouse_out)):
            register(handler)
        for handler, register in ((self._start, self.canvas.on_touch_start), (self._move, self.canvas.on_touch_move),
                                  (self._end, self.canvas.on_touch_end), (self._end, self.canvas.on_touch_cancel)):
            register(lambda touches, handler=handler: handler(*touches[0]) if touches else self._end())
        self.canvas.on_client_ready(self._on_client_ready)

    def _start(self, x: float, y: float) -> None:
        """Pen down: begin a stroke (a dot until the pen moves)."""
        self._drawing = True
        self.strokes.append([(x, y)])
        self.canvas.fill_style = INK
        self.canvas.fill_circle(x, y, self.brush_width / 2)

    def _move(self, x: float, y: float) -> None:
        """Pen moves: extend the stroke; read the drawing at most every LIVE_INTERVAL_S."""
        if not self._drawing:
            return
        (x0, y0), stroke = self.strokes[-1][-1], self.strokes[-1]
        stroke.append((x, y))
        self.canvas.stroke_style = INK
        self.canvas.stroke_line(x0, y0, x, y)
        if time.monotonic() - self._last_read >= LIVE_INTERVAL_S:
            self.read()

    def _end(self, x: float | None = None, y: float | None = None) -> None:
        """Pen up or out of the canvas: the stroke is done; read the drawing."""
        if self._drawing:
            self._drawing = False
            self.read()

    def draw(self, strokes: Sequence[Sequence[Point]]) -> None:
        """Draw ``strokes`` as the mouse would (pen down, moves, pen up): for demos without a browser."""
        for stroke in strokes:
            self._start(*stroke[0])
            for x, y in stroke[1:]:
                self._move(x, y)
            self._end()

    def clear(self) -> None:
        """Wipe the canvas and what was read."""
        self.strokes.clear()
        self._drawing = False
        self._paint()
        self.read()

    def undo(self) -> None:
        """Remove the last stroke and read what is left."""
        if self.strokes:
            self.strokes.pop()
        self._drawing = False
        self._paint()
        self.read()

    def _paint_strokes(self) -> None:
        """Draw the strokes the pad holds with its brush (inside the caller's ``hold_canvas``)."""
        self.canvas.line_width, self.canvas.line_cap, self.canvas.line_join = self.brush_width, "round", "round"
        self.canvas.stroke_style = self.canvas.fill_style = INK
        for stroke in self.strokes:
            if len(stroke) > 1:
                self.canvas.stroke_lines(stroke)
            else:
                self.canvas.fill_circle(*stroke[0], self.brush_width / 2)

    def _on_client_ready(self) -> None:
        """A page has (re)connected (Voilà, a browser reload): it shows an empty canvas, so draw everything again."""
        resend_canvas_switch(self.canvas)
        self._paint()


class DrawingPad(StrokePad, widgets.HBox):
    """Canvas, Clear/Undo, digits/characters choice, upload, top-3 bars and the 28×28 image the model saw.

    In Characters mode the answers can be restricted to digits or letters. A
    picture that is not one character gets "I can't read this" instead of
    guesses. Under the guesses you can say what the character really was: the
    drawing is saved to ``samples_path`` (default ``data/my_handwriting.jsonl``)
    for notebook 11 to teach the model your handwriting.
    """

    def __init__(self, models_dir: Path | str | None = None, mode: str = "digits",
                 samples_path: Path | str | None = None) -> None:
        super().__init__(layout=widgets.Layout(align_items="flex-start"))
        self.add_class("hcr-pad")
        self.models_dir = Path(models_dir) if models_dir is not None else config.models_dir()
        self.samples_path = Path(samples_path) if samples_path is not None else default_path()
        self.strokes: list[list[Point]] = []
        self.predictions: list[tuple[str, float]] = []
        self.seen: np.ndarray | None = None  # the 28×28 image the model read last
        self.picture: np.ndarray | None = None  # an uploaded photo, read while nothing is drawn
        self._recognizers: dict[str, Recognizer] = {}
        self._sources: dict[str, str] = {}
        self._drawing = False
        self._last_read = 0.0

        self.canvas = Canvas(width=SIZE, height=SIZE, sync_image_data=False,
                             layout=widgets.Layout(width=f"{SIZE}px", height=f"{SIZE}px", border="1px solid #999"))
        self.canvas.add_class("hcr-canvas")
        self.mode = widgets.ToggleButtons(options=[("Digits", "digits"), ("Characters", "characters")], value=mode,
                                          tooltips=["MNIST model: 0-9", "EMNIST model: digits and letters"])
        self.answers = widgets.ToggleButtons(options=ANSWERS, value="all", style={"button_width": "80px"},
                                             tooltips=["any of the model's characters", "0-9 only", "letters only"])
        self.answers.add_class("hcr-answers")
        self.clear_button = widgets.Button(description="Clear", icon="eraser", layout=widgets.Layout(width="84px"))
        self.undo_button = widgets.Button(description="Undo", icon="undo", layout=widgets.Layout(width="84px"))
        self.upload = widgets.FileUpload(accept="image/*", multiple=False, description="Upload",
                                         layout=widgets.Layout(width="130px"))
        self.bars = widgets.HTML()
        self.seen_image = widgets.Image(format="png", width=112, height=112)
        self.status = widgets.HTML()
        self.status.add_class("hcr-status")
        self.source = widgets.HTML()  # whose model reads the drawing: yours, or the shipped one
        self.source.add_class("hcr-source")
        self.truth = widgets.Text(placeholder="it was…", layout=widgets.Layout(width="80px"))
        self.truth.add_class("hcr-truth")
        self.save_button = widgets.Button(description="Save", icon="save", layout=widgets.Layout(width="80px"),
                                          tooltip="keep this drawing with the right character, to teach the model")
        self.feedback = widgets.HTML()
        self.feedback.add_class("hcr-feedback")

        self._listen()
        self.clear_button.on_click(lambda _: self.clear())
        self.undo_button.on_click(lambda _: self.undo())
        self.mode.observe(lambda _: self.read(), names="value")
        self.answers.observe(lambda _: self.read(), names="value")
        self.upload.observe(self._on_upload, names="value")
        self.save_button.on_click(lambda _: self.save_correction())
        self.truth.on_submit(lambda _: self.save_correction())

        self.children = [
            widgets.VBox([widgets.HTML(TOUCH_STYLE), self.mode, self.answers, self.canvas,
                          widgets.HBox([self.clear_button, self.undo_button, self.upload])]),
            widgets.VBox([widgets.HTML("<b>Top 3</b>"), self.bars, self.status,
                          widgets.HTML("<b>What the model saw</b>"), self.seen_image,
                          widgets.HBox([widgets.HTML("Not right? It was&nbsp;"), self.truth, self.save_button]),
                          self.feedback, self.source],
                         layout=widgets.Layout(margin="0 0 0 16px", width="320px")),
        ]
        self._paint()
        self.read()

    # --- drawing ---------------------------------------------------------------------------
    def _start(self, x: float, y: float) -> None:
        """Pen down: an uploaded picture on the canvas makes way for the drawing."""
        if self.picture is not None:
            self.picture = None
            self._paint()  # wipes the uploaded picture shown on the canvas
        super()._start(x, y)

    def clear(self) -> None:
        """Wipe the canvas (drawing or uploaded picture) and the guesses."""
        self.picture = None
        super().clear()

    def _paint(self) -> None:
        """Redraw the canvas from what the pad holds: paper, the brush, and the strokes or the uploaded picture."""
        with hold_canvas():
            self.canvas.fill_style = PAPER
            self.canvas.fill_rect(0, 0, SIZE, SIZE)
            if self.picture is not None and not self.strokes:
                shown = Image.fromarray(self.picture).convert("RGB")
                shown.thumbnail((SIZE, SIZE))
                self.canvas.put_image_data(np.asarray(shown), (SIZE - shown.width) // 2, (SIZE - shown.height) // 2)
            self._paint_strokes()

    # --- reading -------------------------------------------------------------------------
    def recognizer(self) -> Recognizer:
        """The model of the chosen mode, loaded once.

        Raises:
            ModelNotFoundError: the saved model is missing; the message says what creates it.
        """
        mode = self.mode.value
        self.source.value = ""
        if mode not in self._recognizers:
            path = find_model(MODELS[mode], self.models_dir)
            self._recognizers[mode] = Recognizer.load(path)
            self._sources[mode] = describe_source(path)
        self.source.value = f'<small style="color:#666">Reading with {html.escape(self._sources[mode])}</small>'
        return self._recognizers[mode]

    def read(self) -> None:
        """Show the top-3 guesses for the drawing (or the uploaded picture), or say what is wrong."""
        self._last_read = time.monotonic()
        self.answers.layout.display = "" if self.mode.value == "characters" else "none"
        image = render_strokes(self.strokes) if self.strokes else self.picture
        try:
            recognizer = self.recognizer()  # first, so that a missing model is reported at once
            if image is None:
                self._show([], None, DRAW_PROMPT)
                return
            allowed = None if self.mode.value == "digits" or self.answers.value == "all" else self.answers.value
            reading = recognizer.read(image, TOP_K, allowed)
            self._show(reading.guesses, reading.seen, f"I can't read this: {reading.refusal}" if reading.refusal else "")
        except (ModelNotFoundError, ValueError) as err:  # ValueError covers blank pictures (BlankImageError)
            self._show([], None, str(err)[:1].upper() + str(err)[1:])

    def save_correction(self, text: str | None = None) -> None:
        """Keep the drawing with the character it really is (typed under the guesses) in the samples file."""
        try:
            if self.seen is None:
                raise ValueError("draw a character first")
            label = label_for(self.truth.value if text is None else text, self.recognizer().classes)
            path = append_sample(Sample(label, [list(stroke) for stroke in self.strokes], self.seen), self.samples_path)
            count = len(read_samples(path))
        except (ValueError, OSError) as err:
            self.feedback.value = f'<span style="color:#a33">Not saved: {html.escape(str(err))}</span>'
            return
        self.truth.value = ""
        self.feedback.value = (f'<span style="color:#276">Saved as {html.escape(label)}: {count} drawing(s) in '
                               f"{html.escape(path.name)}. Notebook 11 teaches the model your handwriting.</span>")

    def _show(self, predictions: list[tuple[str, float]], seen: np.ndarray | None, message: str) -> None:
        self.predictions, self.seen = predictions, seen
        self.bars.value = bars_html(predictions)
        self.seen_image.value = _png(np.zeros((28, 28), np.uint8) if seen is None else seen, 4)
        self.status.value = f'<span style="color:#a33">{html.escape(message)}</span>' if message else ""

    def _on_upload(self, change: dict) -> None:
        """Read an uploaded photo or scan of one character and show it on the canvas."""
        files = uploaded_files(change["new"])
        if not files:
            return
        name, content = files[0]
        self.upload.value = type(change["new"])()  # empty again, so the same file can be uploaded again
        self.strokes.clear()
        self._drawing = False
        try:
            self.picture = decode_image(content)
        except ValueError as err:
            self.picture = None
            self._paint()
            self._show([], None, f"Could not read {name}: {err}")
            return
        self._paint()
        self.read()
