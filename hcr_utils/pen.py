"""The pen of the drawing pads: mouse and touch strokes on an ipycanvas canvas, kept in Python.

The kernel receives every stroke point from the browser, so the pen keeps the
strokes itself (which gives Undo) and the pad rasterises them for the model
(:func:`hcr_utils.strokes.render_strokes`); it never waits for the canvas's
pixels to sync back. Both pads, :class:`hcr_utils.widget.DrawingPad` and
:class:`hcr_utils.word_pad.WordPad`, hold one :class:`Pen`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from ipycanvas import Canvas

from .strokes import Point

LIVE_INTERVAL_S = 0.15  # while drawing, tell the pad at most this often
INK, PAPER = "#111111", "#ffffff"
# the canvas takes touches for drawing, never for scrolling the page (ipycanvas also stops their default action)
TOUCH_STYLE = "<style>.hcr-canvas, .hcr-canvas canvas { touch-action: none; }</style>"


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


def of_the_pen(name: str, doc: str | None = None) -> property:
    """A pad's attribute that is its pen's (``pad.strokes`` is ``pad.pen.strokes``, ``pad.undo`` is ``pad.pen.undo``)."""
    return property(lambda pad: getattr(pad.pen, name), doc=doc or getattr(Pen, name).__doc__)


class Pen:
    """Strokes drawn on ``canvas`` with a round brush ``brush_width`` pixels wide.

    The pad gives two callbacks: ``changed`` (the drawing changed: after each
    stroke, and while drawing at most every ``LIVE_INTERVAL_S``) and ``repaint``
    (draw the whole canvas again: the pad's background, then :meth:`paint`),
    called after Undo and Clear and when a page (re)connects; and optionally
    ``pen_down``, called before a stroke begins.
    """

    def __init__(
        self,
        canvas: Canvas,
        brush_width: int,
        changed: Callable[[], None],
        repaint: Callable[[], None],
        pen_down: Callable[[], None] = lambda: None,
    ) -> None:
        self.canvas, self.brush_width = canvas, brush_width
        self._changed, self._repaint, self._pen_down = changed, repaint, pen_down
        self.strokes: list[list[Point]] = []
        self.drawing = False
        self._last_change = 0.0
        for handler, register in (
            (self.start, canvas.on_mouse_down),
            (self.move, canvas.on_mouse_move),
            (self.end, canvas.on_mouse_up),
            (self.end, canvas.on_mouse_out),
        ):
            register(handler)
        for handler, register in (
            (self.start, canvas.on_touch_start),
            (self.move, canvas.on_touch_move),
            (self.end, canvas.on_touch_end),
            (self.end, canvas.on_touch_cancel),
        ):
            register(lambda touches, handler=handler: handler(*touches[0]) if touches else self.end())
        canvas.on_client_ready(self.on_client_ready)

    def _change(self) -> None:
        self._last_change = time.monotonic()
        self._changed()

    def start(self, x: float, y: float) -> None:
        """Pen down: begin a stroke (a dot until the pen moves)."""
        self._pen_down()
        self.drawing = True
        self.strokes.append([(x, y)])
        self.canvas.fill_style = INK
        self.canvas.fill_circle(x, y, self.brush_width / 2)

    def move(self, x: float, y: float) -> None:
        """Pen moves: extend the stroke; tell the pad at most every LIVE_INTERVAL_S."""
        if not self.drawing:
            return
        (x0, y0), stroke = self.strokes[-1][-1], self.strokes[-1]
        stroke.append((x, y))
        self.canvas.stroke_style = INK
        self.canvas.stroke_line(x0, y0, x, y)
        if time.monotonic() - self._last_change >= LIVE_INTERVAL_S:
            self._change()

    def end(self, x: float | None = None, y: float | None = None) -> None:
        """Pen up or out of the canvas: the stroke is done."""
        if self.drawing:
            self.drawing = False
            self._change()

    def draw(self, strokes: Sequence[Sequence[Point]]) -> None:
        """Draw ``strokes`` as the mouse would (pen down, moves, pen up): for demos without a browser."""
        for stroke in strokes:
            self.start(*stroke[0])
            for x, y in stroke[1:]:
                self.move(x, y)
            self.end()

    def clear(self) -> None:
        """Remove every stroke."""
        self.strokes.clear()
        self.drawing = False
        self._repaint()
        self._change()

    def undo(self) -> None:
        """Remove the last stroke."""
        if self.strokes:
            self.strokes.pop()
        self.drawing = False
        self._repaint()
        self._change()

    def paint(self) -> None:
        """Draw the strokes with the brush (inside the caller's ``hold_canvas``)."""
        self.canvas.line_width, self.canvas.line_cap, self.canvas.line_join = self.brush_width, "round", "round"
        self.canvas.stroke_style = self.canvas.fill_style = INK
        for stroke in self.strokes:
            if len(stroke) > 1:
                self.canvas.stroke_lines(stroke)
            else:
                self.canvas.fill_circle(*stroke[0], self.brush_width / 2)

    def on_client_ready(self) -> None:
        """A page has (re)connected (Voilà, a browser reload): it shows an empty canvas, so draw everything again."""
        resend_canvas_switch(self.canvas)
        self._repaint()
