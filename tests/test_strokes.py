"""Thinning to centre lines and redrawing with a round pen, on real EMNIST characters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from hcr_utils.datasets import load_emnist
from hcr_utils.strokes import redraw_with_pen, thin


@pytest.fixture(scope="module")
def characters(sample_dir: Path) -> np.ndarray:
    """The first 200 real EMNIST test characters of the shipped sample."""
    return load_emnist("balanced", sample_dir / "emnist").x_test[:200]


def test_thin_leaves_one_pixel_wide_lines_inside_the_ink() -> None:
    bar = np.zeros((20, 30), bool)
    bar[8:13, 3:27] = True  # a bar 5 pixels thick
    line = thin(bar)
    assert line.sum() > 15 and (line & ~bar).sum() == 0  # a long line, all of it on the ink
    assert line.sum(axis=0).max() == 1  # one pixel thick everywhere
    assert not thin(np.zeros((5, 5), bool)).any()


def test_thin_of_a_batch_equals_thinning_each_image(characters: np.ndarray) -> None:
    masks = characters[:20] > 127
    assert np.array_equal(thin(masks), np.stack([thin(mask) for mask in masks]))
    kept = thin(masks).sum(axis=(1, 2))
    assert (kept > 0).all() and (kept < 0.6 * masks.sum(axis=(1, 2))).all()  # centre lines, not the whole ink


def test_redraw_with_pen_keeps_the_shape_and_sets_the_width(characters: np.ndarray) -> None:
    thin_pen, thick_pen = redraw_with_pen(characters, 1.5), redraw_with_pen(characters, 4.0)
    assert thin_pen.dtype == np.uint8 and thin_pen.shape == characters.shape
    assert (thin_pen.max(axis=(1, 2)) == 255).all()
    ink = lambda images: (images > 127).sum(axis=(1, 2))  # noqa: E731
    assert (ink(thick_pen) > ink(thin_pen)).all()
    # the redrawn character lies on the original's ink (give or take the pen's extra pixel)
    near_original = ndimage.binary_dilation(characters > 127, np.ones((1, 3, 3), bool))
    redrawn = thick_pen > 127
    assert (redrawn & near_original).sum() / redrawn.sum() > 0.9


def test_redraw_with_pen_takes_a_width_per_image_and_leaves_blank_images_black(characters: np.ndarray) -> None:
    images = characters[:3].copy()
    images[1] = 0
    redrawn = redraw_with_pen(images, np.array([1.5, 3.0, 4.0]))
    assert not redrawn[1].any() and redrawn[0].any() and redrawn[2].any()
    assert (redrawn[2] > 127).sum() > (redrawn[0] > 127).sum()
