"""A drawing pad that reads handwriting live: draw a character, see the model's top-3 guesses.

The pad holds a :class:`~hcr_utils.pen.Pen` (the strokes, kept in Python) and
reads its drawing with :func:`~hcr_utils.strokes.render_strokes` after every
stroke, and now and then while you draw.
"""

from __future__ import annotations

import html
import io
from collections.abc import Sequence
from pathlib import Path

import ipywidgets as widgets
import numpy as np
from ipycanvas import Canvas, hold_canvas
from PIL import Image

from . import config
from .errors import HcrError
from .inference import Recognizer, describe_source, find_model
from .pen import PAPER, TOUCH_STYLE, Pen, of_the_pen
from .preprocessing import decode_image
from .samples import Sample, SampleError, append_sample, default_path, label_for, read_samples
from .strokes import BRUSH_WIDTH, SIZE, Point, render_strokes

TOP_K = 3
MODELS = {"digits": "mnist_cnn.keras", "characters": "emnist_cnn.keras"}
ANSWERS = [("All", "all"), ("Digits", "digits"), ("Letters", "letters")]  # what Characters mode may answer
DRAW_PROMPT = "Draw a character"


def message(err: HcrError) -> str:
    """An error's message as a sentence for the pad: its first letter in capitals."""
    text = str(err)
    return text[:1].upper() + text[1:]


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


class DrawingPad(widgets.HBox):
    """Canvas, Clear/Undo, digits/characters choice, upload, top-3 bars and the 28×28 image the model saw.

    In Characters mode the answers can be restricted to digits or letters. A
    picture that is not one character gets "I can't read this" instead of
    guesses. Under the guesses you can say what the character really was (type
    it and press Enter, or Save): the drawing is saved to ``samples_path``
    (default ``data/my_handwriting.jsonl``) for notebook 11 to teach the model your handwriting.
    """

    def __init__(
        self, models_dir: Path | str | None = None, mode: str = "digits", samples_path: Path | str | None = None
    ) -> None:
        super().__init__(layout=widgets.Layout(align_items="flex-start"))
        self.add_class("hcr-pad")
        self.models_dir = Path(models_dir) if models_dir is not None else config.models_dir()
        self.samples_path = Path(samples_path) if samples_path is not None else default_path()
        self.predictions: list[tuple[str, float]] = []
        self.seen: np.ndarray | None = None  # the 28×28 image the model read last
        self.picture: np.ndarray | None = None  # an uploaded photo, read while nothing is drawn
        self._recognizers: dict[str, Recognizer] = {}
        self._sources: dict[str, str] = {}
        self._saved: list[list[Point]] | None = None  # the drawing saved last, so that it is saved once
        self.canvas = Canvas(
            width=SIZE,
            height=SIZE,
            sync_image_data=False,
            layout=widgets.Layout(width=f"{SIZE}px", height=f"{SIZE}px", border="1px solid #999"),
        )
        self.canvas.add_class("hcr-canvas")
        self.pen = Pen(
            self.canvas,
            BRUSH_WIDTH,
            changed=lambda: self.read(),
            repaint=lambda: self._paint(),
            pen_down=self._make_way_for_drawing,
        )
        self._build_controls(mode)
        self.children = self._layout()
        self._paint()
        self.read()

    def _build_controls(self, mode: str) -> None:
        """The buttons, choices and outputs around the canvas, wired to the pad."""
        self.mode = widgets.ToggleButtons(
            options=[("Digits", "digits"), ("Characters", "characters")],
            value=mode,
            tooltips=["MNIST model: 0-9", "EMNIST model: digits and letters"],
        )
        self.answers = widgets.ToggleButtons(
            options=ANSWERS,
            value="all",
            style={"button_width": "80px"},
            tooltips=["any of the model's characters", "0-9 only", "letters only"],
        )
        self.answers.add_class("hcr-answers")
        self.clear_button = widgets.Button(description="Clear", icon="eraser", layout=widgets.Layout(width="84px"))
        self.undo_button = widgets.Button(description="Undo", icon="undo", layout=widgets.Layout(width="84px"))
        self.upload = widgets.FileUpload(
            accept="image/*", multiple=False, description="Upload", layout=widgets.Layout(width="130px")
        )
        self.bars = widgets.HTML()
        self.seen_image = widgets.Image(format="png", width=112, height=112)
        self.status = widgets.HTML()
        self.source = widgets.HTML()  # whose model reads the drawing: yours, or the shipped one
        # the typed character reaches the kernel on Enter (or when the field loses focus), not at every key
        self.truth = widgets.Text(placeholder="it was…", continuous_update=False, layout=widgets.Layout(width="80px"))
        self.save_button = widgets.Button(
            description="Save",
            icon="save",
            layout=widgets.Layout(width="80px"),
            tooltip="keep this drawing with the right character, to teach the model",
        )
        self.feedback = widgets.HTML()
        for output, name in (
            (self.status, "hcr-status"),
            (self.source, "hcr-source"),
            (self.truth, "hcr-truth"),
            (self.feedback, "hcr-feedback"),
        ):
            output.add_class(name)
        self.clear_button.on_click(lambda _: self.clear())
        self.undo_button.on_click(lambda _: self.undo())
        self.mode.observe(lambda _: self.read(), names="value")
        self.answers.observe(lambda _: self.read(), names="value")
        self.upload.observe(self._on_upload, names="value")
        self.save_button.on_click(lambda _: self.save_correction())
        self.truth.observe(lambda change: change["new"] and self.save_correction(), names="value")

    def _layout(self) -> list[widgets.Widget]:
        """The pad's two columns: the canvas and its controls; the guesses, what the model saw and the correction."""
        drawing = widgets.VBox(
            [
                widgets.HTML(TOUCH_STYLE),
                self.mode,
                self.answers,
                self.canvas,
                widgets.HBox([self.clear_button, self.undo_button, self.upload]),
            ]
        )
        reading = widgets.VBox(
            [
                widgets.HTML("<b>Top 3</b>"),
                self.bars,
                self.status,
                widgets.HTML("<b>What the model saw</b>"),
                self.seen_image,
                widgets.HBox([widgets.HTML("Not right? It was&nbsp;"), self.truth, self.save_button]),
                self.feedback,
                self.source,
            ],
            layout=widgets.Layout(margin="0 0 0 16px", width="320px"),
        )
        return [drawing, reading]

    # --- drawing ---------------------------------------------------------------------------
    strokes = of_the_pen("strokes", "The strokes drawn, each a list of (x, y) canvas points.")
    draw = of_the_pen("draw")
    undo = of_the_pen("undo")

    def clear(self) -> None:
        """Wipe the canvas (drawing or uploaded picture) and the guesses."""
        self.picture = None
        self.pen.clear()

    def _make_way_for_drawing(self) -> None:
        """Pen down: an uploaded picture on the canvas makes way for the drawing."""
        if self.picture is not None:
            self.picture = None
            self._paint()  # wipes the uploaded picture shown on the canvas

    def _paint(self) -> None:
        """Redraw the canvas from what the pad holds: paper, then the strokes or the uploaded picture."""
        with hold_canvas():
            self.canvas.fill_style = PAPER
            self.canvas.fill_rect(0, 0, SIZE, SIZE)
            if self.picture is not None and not self.strokes:
                shown = Image.fromarray(self.picture).convert("RGB")
                shown.thumbnail((SIZE, SIZE))
                self.canvas.put_image_data(np.asarray(shown), (SIZE - shown.width) // 2, (SIZE - shown.height) // 2)
            self.pen.paint()

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
        self.answers.layout.display = "" if self.mode.value == "characters" else "none"
        image = render_strokes(self.strokes) if self.strokes else self.picture
        try:
            recognizer = self.recognizer()  # first, so that a missing model is reported at once
            if image is None:
                self._show([], None, DRAW_PROMPT)
                return
            allowed = None if self.mode.value == "digits" or self.answers.value == "all" else self.answers.value
            reading = recognizer.read(image, TOP_K, allowed)
            self._show(
                reading.guesses, reading.seen, f"I can't read this: {reading.refusal}" if reading.refusal else ""
            )
        except HcrError as err:  # a missing model, a blank picture
            self._show([], None, message(err))

    def save_correction(self, text: str | None = None) -> None:
        """Keep the drawing with the character it really is (typed under the guesses) in the samples file.

        A drawing is saved once: Save pressed again for it, with nothing typed, changes nothing.
        """
        typed = self.truth.value if text is None else text
        if not typed and self.strokes and self._saved == self.strokes:
            return
        try:
            if self.seen is None:
                raise SampleError("draw a character first")
            label = label_for(typed, self.recognizer().classes)
            path = append_sample(Sample(label, [list(stroke) for stroke in self.strokes], self.seen), self.samples_path)
            count = len(read_samples(path))
        except HcrError as err:  # nothing drawn, not a character of the model, the file cannot be written
            self.feedback.value = f'<span style="color:#a33">Not saved: {html.escape(str(err))}</span>'
            return
        self._saved = [list(stroke) for stroke in self.strokes]
        self.truth.value = ""
        self.feedback.value = (
            f'<span style="color:#276">Saved as {html.escape(label)}: {count} drawing(s) in '
            f"{html.escape(path.name)}. Notebook 11 teaches the model your handwriting.</span>"
        )

    def _show(self, predictions: list[tuple[str, float]], seen: np.ndarray | None, status: str) -> None:
        self.predictions, self.seen = predictions, seen
        self.bars.value = bars_html(predictions)
        self.seen_image.value = _png(np.zeros((28, 28), np.uint8) if seen is None else seen, 4)
        self.status.value = f'<span style="color:#a33">{html.escape(status)}</span>' if status else ""

    def _on_upload(self, change: dict) -> None:
        """Read an uploaded photo or scan of one character and show it on the canvas."""
        files = uploaded_files(change["new"])
        if not files:
            return
        name, content = files[0]
        self.upload.value = type(change["new"])()  # empty again, so the same file can be uploaded again
        self.strokes.clear()
        self.pen.drawing = False
        try:
            self.picture = decode_image(content)
        except HcrError as err:  # not an image file
            self.picture = None
            self._paint()
            self._show([], None, f"Could not read {name}: {err}")
            return
        self._paint()
        self.read()
