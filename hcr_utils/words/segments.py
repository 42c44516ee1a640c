"""The baseline: cut the line into characters, read each one with the character model (segment-then-read)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from ..inference import Recognizer
from ..preprocessing import INK_THRESHOLD, LINE_HEIGHT, BlankImageError
from .lines import labels_text


def segment(line: np.ndarray, split_width: float = 0.9, overlap: float = 0.5) -> list[tuple[int, int]]:
    """Column spans of the characters of a 28×W white-on-black line, found from its ink's connected components.

    Components that share more than ``overlap`` of the narrower one's columns
    are one character (an i's dot, a broken stroke); a component wider than
    ``split_width`` × the line's ink height is taken for touching characters and
    cut into as many pieces of that width, at the columns with the least ink.
    """
    ink = line > INK_THRESHOLD * max(int(line.max()), 1)
    components, count = ndimage.label(ink, structure=np.ones((3, 3)))
    boxes = [(box[1].start, box[1].stop) for box in ndimage.find_objects(components)]
    sizes = ndimage.sum(ink, components, range(1, count + 1)) if count else []
    spans: list[list[int]] = []
    for (left, right), size in sorted(zip(boxes, sizes)):
        if size < 4:  # specks
            continue
        if spans:
            shared = min(right, spans[-1][1]) - max(left, spans[-1][0])
            if shared > overlap * min(right - left, spans[-1][1] - spans[-1][0]):
                spans[-1] = [min(left, spans[-1][0]), max(right, spans[-1][1])]
                continue
        spans.append([left, right])
    rows = np.flatnonzero(ink.any(axis=1))
    width = split_width * (rows[-1] - rows[0] + 1) if rows.size else LINE_HEIGHT
    profile = (line * ink).sum(axis=0)
    cut: list[tuple[int, int]] = []
    for left, right in spans:
        pieces = max(1, round((right - left) / width))
        edges = [left]
        for k in range(1, pieces):  # the lightest column near each even cut
            ideal = left + k * (right - left) // pieces
            near = slice(max(edges[-1] + 1, ideal - 4), min(right - 1, ideal + 5))
            edges.append(near.start + int(profile[near].argmin()) if near.stop > near.start else ideal)
        edges.append(right)
        cut += list(zip(edges[:-1], edges[1:]))
    return cut


def read_by_segments(recognizer: Recognizer, line: np.ndarray, split_width: float = 0.9) -> str:
    """Segment-then-read: each piece of a prepared 28×W line (see :func:`segment`) read by a character ``Recognizer``."""
    pieces = []
    for left, right in segment(line, split_width):
        try:
            pieces.append(recognizer.prepare(np.pad(line[:, left:right], 2)))
        except BlankImageError:  # a piece with too little ink to be a character
            continue
    if not pieces:
        return ""
    return labels_text(recognizer.probabilities(np.stack(pieces)).argmax(axis=1), recognizer.classes)
