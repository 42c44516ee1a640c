"""Pad drawings made from images: a character's ink thinned to its centre line and redrawn with the pad's round brush.

Used to test and measure the drawing pad on real characters (the benchmarks'
"canvas fidelity"), and to make pad-like drawings from real test characters.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from .widget import BRUSH_WIDTH, SIZE, Point, render_strokes

SKELETON_SCALE = 5  # thin the ink at 140×140: smooth centre lines, still fast


def thin(mask: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning of a boolean mask to one-pixel-wide centre lines."""
    image = np.pad(mask, 1).astype(np.uint8)
    changed = True
    while changed:
        changed = False
        for step in (0, 1):
            centre = image[1:-1, 1:-1]
            # neighbours clockwise from north: p2 … p9
            p = [image[:-2, 1:-1], image[:-2, 2:], image[1:-1, 2:], image[2:, 2:],
                 image[2:, 1:-1], image[2:, :-2], image[1:-1, :-2], image[:-2, :-2]]
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


# --- things that are not one character: what the pad should refuse to read ------------------------------------
def scribble(rng: np.random.Generator) -> list[list[Point]]:
    """A scribble: one to three long, jagged strokes criss-crossing a random part of the canvas."""
    strokes = []
    for _ in range(rng.integers(1, 4)):
        centre, step = rng.uniform(100, 180, 2), rng.uniform(25, 60)
        points = centre + np.cumsum(rng.normal(0, step, (int(rng.integers(10, 30)), 2)), axis=0)
        strokes.append([tuple(map(float, p)) for p in np.clip(points, 10, SIZE - 10)])
    return strokes


def filled_blob(rng: np.random.Generator) -> list[list[Point]]:
    """A patch coloured in: a zigzag of close parallel strokes over an ellipse."""
    centre, (rx, ry) = rng.uniform(110, 170, 2), rng.uniform(35, 100, 2)
    strokes = []
    for y in np.arange(-ry, ry, BRUSH_WIDTH * 0.6):
        half = rx * np.sqrt(max(0.0, 1 - (y / ry) ** 2))
        strokes.append([(float(centre[0] - half), float(centre[1] + y)), (float(centre[0] + half), float(centre[1] + y))])
    return strokes


def smudge(rng: np.random.Generator) -> np.ndarray:
    """A grey smear on white paper, as a photo of a rubbed-out mark: a 280×280 greyscale image."""
    from scipy import ndimage

    canvas = np.zeros((SIZE, SIZE), np.float32)
    for _ in range(rng.integers(2, 6)):
        y, x = rng.integers(60, SIZE - 60, 2)
        canvas[y - 20 : y + 20, x - 30 : x + 30] += rng.uniform(0.3, 1.0)
    smeared = ndimage.gaussian_filter(canvas, rng.uniform(12, 25))
    return (255 - 200 * smeared / smeared.max()).astype(np.uint8)


def two_characters(left: np.ndarray, right: np.ndarray, gap: float = 0.1) -> list[list[Point]]:
    """Two 28×28 characters drawn side by side on one canvas, each half the canvas wide."""
    strokes = []
    for image, offset in ((left, 0.0), (right, SIZE / 2 + gap * SIZE / 4)):
        for stroke in centre_line_strokes(image):
            strokes.append([(offset + x * (0.5 - gap / 4), SIZE / 4 + y * (0.5 - gap / 4)) for x, y in stroke])
    return strokes
