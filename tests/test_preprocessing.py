"""Preprocessing turns any picture of one character into a 28×28 image like the training data."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from hcr_utils.datasets import Dataset
from hcr_utils.preprocessing import BlankImageError, UnreadableImageError, decode_image, ink_map, prepare
from hcr_utils.strokes import render_strokes

pytest_plugins = ["widget_fixtures"]


def _big(image: np.ndarray, side: int = 280) -> np.ndarray:
    return np.asarray(Image.fromarray(image).resize((side, side), Image.Resampling.BICUBIC))


def _box(image: np.ndarray, level: int = 64) -> tuple[int, int]:
    rows, cols = np.nonzero(image > level)
    return rows.max() - rows.min() + 1, cols.max() - cols.min() + 1


def _file(image: np.ndarray | Image.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    (image if isinstance(image, Image.Image) else Image.fromarray(image)).save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.mark.parametrize("style", ["emnist", "mnist"])
def test_prepare_gives_28x28_uint8_with_full_contrast(style: str, mnist_sample: Dataset) -> None:
    out = prepare(_big(mnist_sample.x_test[0]), style)
    assert out.shape == (28, 28)
    assert out.dtype == np.uint8
    assert out.max() == 255
    assert out[0].max() < 32
    assert out[:, 0].max() < 32  # ink in the middle, dark border


def test_emnist_conversion_of_an_emnist_image_gives_it_back(emnist_sample: Dataset) -> None:
    diffs = [np.abs(prepare(x, "emnist").astype(int) - x).mean() for x in emnist_sample.x_test[:50]]
    assert np.median(diffs) < 12, "re-converting an EMNIST image should change it little"


def test_emnist_conversion_fills_the_frame_less_two_pixels(emnist_sample: Dataset) -> None:
    letter = _big(emnist_sample.x_test[1], 400)
    assert max(_box(prepare(letter, "emnist"))) in range(22, 27)


def test_mnist_conversion_fits_20x20_and_centres_the_mass(mnist_sample: Dataset) -> None:
    for image in mnist_sample.x_test[:20]:
        out = prepare(_big(image), "mnist")
        assert max(_box(out)) <= 21
        cy, cx = ndimage.center_of_mass(out.astype(float))
        assert abs(cy - 13.5) < 0.6
        assert abs(cx - 13.5) < 0.6


@pytest.mark.parametrize("style", ["emnist", "mnist"])
def test_dark_on_light_photos_read_like_white_on_black(style: str, mnist_sample: Dataset, on_paper: Callable) -> None:
    image = mnist_sample.x_test[3]
    clean = prepare(_big(image, 220), style).astype(int)
    photo = on_paper(image)  # RGB, 300×220, dark ink on grey paper, noisy
    assert np.abs(prepare(photo, style).astype(int) - clean).mean() < 8


def test_grey_rgb_and_transparent_rgba_give_the_same_image(mnist_sample: Dataset) -> None:
    grey = _big(mnist_sample.x_test[5])
    rgb = np.repeat(grey[..., None], 3, axis=2)
    rgba = np.zeros(grey.shape + (4,), np.uint8)  # black ink, transparent paper: a drawing-app PNG
    rgba[..., 3] = grey
    expected = prepare(grey)
    assert np.array_equal(prepare(rgb), expected)
    assert np.abs(prepare(rgba).astype(int) - expected).mean() < 3


@pytest.mark.parametrize("shape", [(40, 90), (1200, 700), (28, 28)])
def test_any_size_and_aspect(shape: tuple[int, int]) -> None:
    image = np.zeros(shape, np.uint8)
    image[
        shape[0] // 4 : 3 * shape[0] // 4,
        shape[1] // 2 - max(1, shape[1] // 20) : shape[1] // 2 + max(1, shape[1] // 20),
    ] = 255
    out = prepare(image)
    assert out.shape == (28, 28)
    assert out[14, 14] > 200  # a bar reads as a centred bar


@pytest.mark.parametrize(
    "image",
    [np.zeros((280, 280), np.uint8), np.full((280, 280), 255, np.uint8), np.full((50, 60, 3), 128, np.uint8)],
    ids=["black", "white", "grey"],
)
def test_blank_pictures_raise_a_clear_value_error(image: np.ndarray) -> None:
    with pytest.raises(BlankImageError, match="draw a character"):
        prepare(image)
    assert issubclass(BlankImageError, ValueError)


def test_a_dot_is_not_a_character() -> None:
    with pytest.raises(BlankImageError, match="too small"):
        prepare(render_strokes([[(140, 140)]]))


@pytest.mark.parametrize(
    "image",
    [np.zeros((1, 1), np.uint8), np.zeros((28, 28, 2), np.uint8), np.zeros((4, 4, 4, 4), np.uint8)],
    ids=["1x1", "2-channels", "4-d"],
)
def test_arrays_that_are_not_images_are_refused(image: np.ndarray) -> None:
    with pytest.raises(ValueError, match="image"):
        prepare(image)


def test_unknown_style_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown style"):
        prepare(np.zeros((28, 28), np.uint8), "kuzushiji")


def test_ink_map_is_bright_ink_on_black_in_0_1(mnist_sample: Dataset) -> None:
    ink = ink_map(255 - mnist_sample.x_test[0])
    assert ink.min() == 0.0
    assert ink.max() == 1.0
    assert ink[0, 0] == 0.0
    assert ink.mean() < 0.3


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA", "P", "LA"])
def test_decode_image_reads_common_modes(mode: str, mnist_sample: Dataset) -> None:
    digit = 255 - _big(mnist_sample.x_test[0], 56)
    array = decode_image(_file(Image.fromarray(digit).convert(mode)))
    assert array.dtype == np.uint8
    assert array.shape[:2] == (56, 56)
    assert array.ndim == 2 or array.shape[2] in (3, 4)
    assert np.abs(prepare(array).astype(int) - prepare(digit)).mean() < 10


def test_decode_image_shrinks_huge_scans_and_jpegs(mnist_sample: Dataset, on_paper: Callable) -> None:
    photo = on_paper(mnist_sample.x_test[2], size=(2400, 1800))
    for fmt in ("PNG", "JPEG"):
        array = decode_image(_file(photo, fmt))
        assert max(array.shape[:2]) == 1024
        assert array.shape[0] == 768
        assert np.abs(prepare(array).astype(int) - prepare(photo).astype(int)).mean() < 8


def test_decode_image_applies_exif_orientation() -> None:
    image = Image.fromarray(np.zeros((60, 20), np.uint8))
    exif = image.getexif()
    exif[0x0112] = 6  # orientation: "rotate 90° clockwise to view"
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    assert decode_image(buffer.getvalue()).shape == (20, 60)


@pytest.mark.parametrize(
    "data", [b"", b"hello, this is a text file", b"\x89PNG\r\n\x1a\n broken"], ids=["empty", "text", "truncated-png"]
)
def test_decode_image_refuses_non_images(data: bytes) -> None:
    with pytest.raises(UnreadableImageError, match="not a readable image"):
        decode_image(data)


def test_decode_image_refuses_decompression_bombs(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _file(np.zeros((300, 300), np.uint8))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100 * 100)  # 300×300 > 2× the limit: a "bomb"
    with pytest.raises(UnreadableImageError, match="DecompressionBomb"):
        decode_image(data)
