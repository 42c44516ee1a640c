"""Drawings for the tests and benchmarks: things that are not one character, and real lines written on the word pad.

The refusal rule (``hcr_utils.rejection``) is measured on scribbles, coloured-in
patches, smudges and two characters at once; the word pad on test lines
thinned to centre lines.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage

from hcr_utils.preprocessing import LINE_HEIGHT
from hcr_utils.strokes import BRUSH_WIDTH, SIZE, Point, centre_line_strokes, thin
from hcr_utils.word_pad import HEIGHT, WIDTH


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
        strokes.append(
            [(float(centre[0] - half), float(centre[1] + y)), (float(centre[0] + half), float(centre[1] + y))]
        )
    return strokes


def smudge(rng: np.random.Generator) -> np.ndarray:
    """A grey smear on white paper, as a photo of a rubbed-out mark: a 280×280 greyscale image."""
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


def line_strokes(line: np.ndarray, margin: int = 20) -> list[list[Point]]:
    """A 28×W white-on-black line as pad strokes: its ink thinned to centre lines (a dot per pixel), as tall as the canvas.

    Used to write real test lines on the pad, to test and time it; what does not fit the canvas's width is dropped.
    """
    big = np.asarray(Image.fromarray(line).resize((line.shape[1] * 4, LINE_HEIGHT * 4), Image.Resampling.BICUBIC))
    rows, cols = np.nonzero(thin(big > 128))
    scale = (HEIGHT - 2 * margin) / (4 * LINE_HEIGHT)
    return [[(margin + c * scale, margin + r * scale)] for r, c in zip(rows, cols) if margin + c * scale < WIDTH]
