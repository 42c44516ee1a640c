"""Pen strokes from scanned ink: thin characters to centre lines and redraw them with a round pen.

Scanned handwriting (EMNIST) has strokes of every width, with ragged edges; a
drawing pad paints every stroke with the same round brush. :func:`thin`
reduces ink to one-pixel centre lines, and :func:`redraw_with_pen` paints
those lines again with a pen of a chosen width, so training data can look like
drawings (``Recipe.pen_redraw``) and benchmarks can turn test images into
drawings.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

CHUNK = 4096  # images thinned and redrawn at once: bounds the memory of the batched operations


def thin(mask: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning of boolean masks (H×W, or N×H×W at once) to one-pixel-wide centre lines."""
    image = np.pad(np.asarray(mask, dtype=bool), [(0, 0)] * (mask.ndim - 2) + [(1, 1), (1, 1)]).astype(np.uint8)
    centre = image[..., 1:-1, 1:-1]
    # neighbours clockwise from north: p2 … p9 (views into ``image``, so they follow each removal)
    p = [image[..., :-2, 1:-1], image[..., :-2, 2:], image[..., 1:-1, 2:], image[..., 2:, 2:],
         image[..., 2:, 1:-1], image[..., 2:, :-2], image[..., 1:-1, :-2], image[..., :-2, :-2]]
    changed = True
    while changed:
        changed = False
        for step in (0, 1):
            count = sum(n.astype(np.int8) for n in p)
            transitions = sum(((p[i] == 0) & (p[(i + 1) % 8] == 1)).astype(np.int8) for i in range(8))
            if step == 0:
                side = (p[0] * p[2] * p[4] == 0) & (p[2] * p[4] * p[6] == 0)
            else:
                side = (p[0] * p[2] * p[6] == 0) & (p[0] * p[4] * p[6] == 0)
            remove = (centre == 1) & (count >= 2) & (count <= 6) & (transitions == 1) & side
            if remove.any():
                centre[remove] = 0
                changed = True
    return centre.astype(bool)


def redraw_with_pen(images: np.ndarray, widths: np.ndarray | float, blur: float = 0.5) -> np.ndarray:
    """N×H×W uint8 characters (bright ink on black) redrawn along their centre lines with a round pen.

    ``widths`` is the pen's diameter in pixels, one for all images or one per
    image. The pen's edge is anti-aliased and the result lightly blurred, as a
    drawing is once it is shrunk to the model's size. Images without ink stay black.
    """
    images = np.asarray(images)
    widths = np.broadcast_to(np.asarray(widths, dtype=np.float32), (len(images),))
    out = np.zeros(images.shape, np.uint8)
    for start in range(0, len(images), CHUNK):
        batch = images[start : start + CHUNK]
        ink = batch > 0.5 * batch.max(axis=(1, 2), keepdims=True).clip(min=1)
        centre_lines = thin(ink)
        # distance of every pixel to the nearest centre-line pixel of its own image (images lie far apart on axis 0)
        distance = ndimage.distance_transform_edt(~centre_lines, sampling=(1e4, 1.0, 1.0))
        radius = widths[start : start + CHUNK, None, None] / 2
        pen = np.clip(radius + 0.5 - distance, 0.0, 1.0)
        if blur:
            pen = ndimage.gaussian_filter(pen, sigma=(0, blur, blur))
        peak = pen.max(axis=(1, 2), keepdims=True)
        out[start : start + CHUNK] = np.round(255 * pen / np.maximum(peak, 1e-6))
    return out
