"""Strokes as the pads keep them, rasterised with a round brush; and pad drawings made from images.

A stroke is a list of (x, y) canvas points. :func:`render_strokes` draws strokes
as the model sees them, with no widget involved. :func:`redraw` thins a
character's ink to its centre line and draws it again with the pad's brush: the
benchmarks' "canvas fidelity", and pad-like drawings from real test characters.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

SIZE = 280  # the character pad's canvas side in pixels, 10× the model's 28×28
BRUSH_WIDTH = 32  # pen diameter in canvas pixels: strokes as thick, relative to the character, as EMNIST's
Point = tuple[float, float]

SKELETON_SCALE = 5  # thin the ink at 140×140: smooth centre lines, still fast


def render_strokes(
    strokes: Sequence[Sequence[Point]], size: int | tuple[int, int] = SIZE, width: int = BRUSH_WIDTH
) -> np.ndarray:
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


def thin(mask: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning of a boolean mask to one-pixel-wide centre lines."""
    image = np.pad(mask, 1).astype(np.uint8)
    changed = True
    while changed:
        changed = False
        for step in (0, 1):
            centre = image[1:-1, 1:-1]
            # neighbours clockwise from north: p2 … p9
            p = [
                image[:-2, 1:-1],
                image[:-2, 2:],
                image[1:-1, 2:],
                image[2:, 2:],
                image[2:, 1:-1],
                image[2:, :-2],
                image[1:-1, :-2],
                image[:-2, :-2],
            ]
            count = sum(n.astype(np.int32) for n in p)
            transitions = sum(((p[i] == 0) & (p[(i + 1) % 8] == 1)).astype(np.int32) for i in range(8))
            if step == 0:
                side = (p[0] * p[2] * p[4] == 0) & (p[2] * p[4] * p[6] == 0)
            else:
                side = (p[0] * p[2] * p[6] == 0) & (p[0] * p[4] * p[6] == 0)
            remove = (centre == 1) & (count >= 2) & (count <= 6) & (transitions == 1) & side
            if remove.any():
                centre[remove] = 0
                changed = True
    return image[1:-1, 1:-1].astype(bool)


def centre_line_strokes(image: np.ndarray) -> list[list[Point]]:
    """The centre line of a 28×28 character as pad strokes (one dot per skeleton pixel) on the 280×280 canvas."""
    side = 28 * SKELETON_SCALE
    big = np.asarray(Image.fromarray(image).resize((side, side), Image.Resampling.BICUBIC), dtype=np.float32)
    rows, cols = np.nonzero(thin(big > 0.5 * big.max()))
    step = SIZE / side
    return [[(float((c + 0.5) * step), float((r + 0.5) * step))] for r, c in zip(rows, cols)]


def redraw(image: np.ndarray, brush_width: int = BRUSH_WIDTH) -> np.ndarray:
    """A 28×28 character redrawn as round-brush strokes on the pad's 280×280 canvas."""
    return render_strokes(centre_line_strokes(image), width=brush_width)
