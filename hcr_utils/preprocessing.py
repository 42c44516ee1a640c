"""Turn any picture of one character into a 28×28 image like the training data.

Two conversions, one per dataset, each following how its images were made:

* EMNIST (Cohen et al. 2017): blur, crop to the ink's bounding box, centre in
  a square keeping the aspect ratio, pad 2 pixels, resize to 28×28.
* MNIST (LeCun et al.): fit the ink in a 20×20 box keeping the aspect ratio,
  then centre its centre of mass in a 28×28 frame.

Input may be any size, grey (H×W), RGB or RGBA, white ink on black or dark ink
on light paper: :func:`ink_map` normalises all of that first. Image files
(uploads, photos, scans) become such arrays with :func:`decode_image`.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy import ndimage

from .errors import HcrError

INK_THRESHOLD = 0.2  # share of full intensity above which a pixel counts as ink
MIN_EXTENT = 0.15  # the ink must span at least this share of the picture's larger side (a dot does not)
MAX_SIDE = 1024  # decoded files are shrunk to at most this many pixels a side: plenty for one character
WORK_SIDE = 512  # larger pictures are shrunk to this side before the conversion, which keeps it fast
STYLES = ("emnist", "mnist")
LINE_HEIGHT = 28  # a line is as tall as one EMNIST character
LINE_INK_HEIGHT = 24  # a line's ink is scaled to this height: 2 pixels of margin above and below, as EMNIST's
LINE_MARGIN = 4  # blank columns left and right of a line's ink
MAX_LINE_WIDTH = 2048  # a longer line is shrunk to this many pixels of width
LINE_WORK_SIDE = 2 * MAX_LINE_WIDTH  # a picture of a line is shrunk only beyond this: the line's own scaling decides


class BlankImageError(HcrError, ValueError):
    """The picture holds no character (blank, uniform, or only a speck): draw a character."""


class UnreadableImageError(HcrError, ValueError):
    """The bytes are not an image file that Pillow can read."""


def decode_image(data: bytes, max_side: int = MAX_SIDE) -> np.ndarray:
    """Pixels of an image file's bytes (any format Pillow reads) as uint8 L, RGB or RGBA.

    Photos are turned upright (EXIF orientation) and shrunk to at most
    ``max_side`` pixels a side, so huge scans stay fast.

    Raises:
        UnreadableImageError: not an image, a damaged file, or a decompression bomb.
    """
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.draft("RGB", (max_side, max_side))  # JPEG decodes at a reduced size directly
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((max_side, max_side))
            mode = "RGBA" if "A" in upright.mode or "transparency" in upright.info else "RGB"
            return np.asarray(upright if upright.mode in ("L", "RGB", "RGBA") else upright.convert(mode))
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as err:
        raise UnreadableImageError(f"not a readable image file ({type(err).__name__}: {err})") from None


def _grey(image: np.ndarray) -> np.ndarray:
    """Grey levels in [0, 1] from H×W, H×W×1, H×W×3 or H×W×4 (uint8 or float)."""
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise ValueError(f"expected an H×W, H×W×3 or H×W×4 image, got shape {array.shape}")
    if min(array.shape[:2]) < 2:
        raise BlankImageError(f"image of {array.shape[0]}×{array.shape[1]} pixels is too small to read")
    scale = 255.0 if array.dtype == np.uint8 or array.max(initial=0) > 1.0 else 1.0
    array = array.astype(np.float32) / scale
    if array.ndim == 2:
        return array
    grey = array[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    if array.shape[2] == 4:
        alpha = array[..., 3]
        if alpha.min() < 1.0:  # transparent background: put it behind the ink in a contrasting colour
            opaque = alpha > 0.5
            ink_is_dark = opaque.any() and grey[opaque].mean() < 0.5
            background = 1.0 if ink_is_dark else 0.0
            grey = grey * alpha + background * (1.0 - alpha)
    return grey


def ink_map(image: np.ndarray, max_side: int = WORK_SIDE) -> np.ndarray:
    """Grey image in [0, 1] with bright ink on a black background, contrast stretched, at most ``max_side`` a side.

    Dark-on-light input (scans, photos, paper) is detected from the border,
    which is background in a picture of one character, and inverted.

    Raises:
        BlankImageError: if the picture has no contrast or no ink.
    """
    grey = _grey(image)
    if max(grey.shape) > max_side:
        scale = max_side / max(grey.shape)
        grey = _resize(grey, max(2, round(grey.shape[0] * scale)), max(2, round(grey.shape[1] * scale)))
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    if np.median(border) > 0.5:
        grey = 1.0 - grey
    low, high = np.percentile(grey, 1), grey.max()
    if high - low < 0.15:
        raise BlankImageError("the picture is blank: draw a character")
    return np.clip((grey - low) / (high - low), 0.0, 1.0)


CHARACTER_PROMPTS = ("draw a character", "draw it bigger")  # what to do about a blank picture, a speck
LINE_PROMPTS = ("write a word", "write bigger")


def _ink_box(
    ink: np.ndarray, side: int | None = None, prompts: tuple[str, str] = CHARACTER_PROMPTS
) -> tuple[slice, slice]:
    """Bounding box of the ink; raises BlankImageError when it spans less than MIN_EXTENT of ``side``.

    ``side`` defaults to the picture's larger side (a character); a line passes its height.
    """
    rows = np.flatnonzero((ink > INK_THRESHOLD).any(axis=1))
    cols = np.flatnonzero((ink > INK_THRESHOLD).any(axis=0))
    if rows.size == 0:
        raise BlankImageError(f"the picture is blank: {prompts[0]}")
    height, width = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
    if max(height, width) < MIN_EXTENT * (max(ink.shape) if side is None else side):
        raise BlankImageError(f"the mark is too small to be a character: {prompts[1]}")
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def _resize(ink: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize a [0, 1] image with an anti-aliasing filter (box when shrinking a lot)."""
    shrink = ink.shape[0] > 2 * height or ink.shape[1] > 2 * width
    resample = Image.Resampling.BOX if shrink else Image.Resampling.BICUBIC
    out = Image.fromarray(ink.astype(np.float32), mode="F").resize((width, height), resample)
    return np.clip(np.asarray(out), 0.0, 1.0)


def _centre(ink: np.ndarray, side: int) -> np.ndarray:
    """``ink`` in the middle of a black side×side square."""
    frame = np.zeros((side, side), np.float32)
    top, left = (side - ink.shape[0]) // 2, (side - ink.shape[1]) // 2
    frame[top : top + ink.shape[0], left : left + ink.shape[1]] = ink
    return frame


def to_emnist(ink: np.ndarray) -> np.ndarray:
    """EMNIST conversion of a bright-ink image: blur, crop, square, pad 2 px, 28×28, uint8.

    NIST blurred its 128×128 scans with sigma 1, and a character spans about half
    of such a scan: the blur here is 1/64 of the ink's larger side, whatever the picture's size.
    """
    rows, cols = _ink_box(ink)
    side = max(rows.stop - rows.start, cols.stop - cols.start)
    blurred = ndimage.gaussian_filter(ink, sigma=max(side / 64.0, 0.5))
    cropped = blurred[_ink_box(blurred)]
    pad = int(round(max(cropped.shape) * 2 / 24))  # 2 of 28 pixels on each side after resizing
    small = _resize(_centre(cropped, max(cropped.shape) + 2 * pad), 28, 28)
    return np.round(255 * small / max(small.max(), 1e-6)).astype(np.uint8)


def to_mnist(ink: np.ndarray) -> np.ndarray:
    """MNIST conversion of a bright-ink image: fit in 20×20, centre of mass at the centre of 28×28."""
    cropped = ink[_ink_box(ink)]
    height, width = cropped.shape
    scale = 20.0 / max(height, width)
    fitted = _resize(cropped, max(1, round(height * scale)), max(1, round(width * scale)))
    frame = _centre(fitted, 28)
    cy, cx = ndimage.center_of_mass(frame)
    frame = ndimage.shift(frame, (13.5 - cy, 13.5 - cx), order=1, mode="constant")
    return np.round(255 * np.clip(frame, 0, 1) / max(frame.max(), 1e-6)).astype(np.uint8)


def prepare(image: np.ndarray, style: str = "emnist") -> np.ndarray:
    """Any picture of one character → 28×28 uint8, white ink on black, as ``style``'s data.

    Raises:
        BlankImageError: no character to read.
        ValueError: an array that is not an image.
    """
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}; choose one of {STYLES}")
    ink = ink_map(image)
    return to_emnist(ink) if style == "emnist" else to_mnist(ink)


def line_input(image: np.ndarray) -> np.ndarray:
    """Any picture of one line (grey, RGB or RGBA, any size, dark on light or light on dark) → 28×W uint8 white on black.

    Like :func:`to_emnist` for a character, but for a line: blur by 1/64 of the
    ink's height, crop to the ink, scale its height to ``LINE_INK_HEIGHT`` pixels
    (at most ``MAX_LINE_WIDTH`` wide) keeping the width in proportion, with
    ``LINE_MARGIN`` blank columns on each side. The ink must span MIN_EXTENT of
    the picture's height.

    Raises:
        BlankImageError: no ink, or only a speck.
        ValueError: an array that is not an image.
    """
    ink = ink_map(image, LINE_WORK_SIDE)
    rows, _ = _ink_box(ink, ink.shape[0], LINE_PROMPTS)
    blurred = ndimage.gaussian_filter(ink, sigma=max((rows.stop - rows.start) / 64.0, 0.5))
    crop = blurred[_ink_box(blurred, blurred.shape[0], LINE_PROMPTS)]
    scale = min(LINE_INK_HEIGHT / crop.shape[0], MAX_LINE_WIDTH / crop.shape[1])
    small = _resize(crop, max(1, round(crop.shape[0] * scale)), max(1, round(crop.shape[1] * scale)))
    top = (LINE_HEIGHT - small.shape[0]) // 2
    line = np.zeros((LINE_HEIGHT, small.shape[1] + 2 * LINE_MARGIN), np.float32)
    line[top : top + small.shape[0], LINE_MARGIN : LINE_MARGIN + small.shape[1]] = small
    return np.round(255 * line / max(line.max(), 1e-6)).astype(np.uint8)
