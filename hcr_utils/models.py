"""CNN builders for 28×28 characters.

Every model takes raw pixels (0-255, shape 28×28×1) and returns class
probabilities: rescaling and training-time augmentation are layers inside the
model, so a saved ``.keras`` file needs no separate preprocessing code.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
from keras import layers, ops

INPUT_SHAPE = (28, 28, 1)


@keras.saving.register_keras_serializable(package="hcr")
class RandomStrokeWidth(layers.Layer):
    """Randomly thicken (2×2 dilation) or thin (2×2 erosion) the ink of each image, only while training.

    Pens differ, and so do a finger on a canvas and a pencil on paper: this
    teaches the network that stroke width does not change the character.
    """

    def __init__(self, rate: float = 0.5, seed: int | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.rate, self.seed = rate, seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training: bool = False):
        if not training or not self.rate:
            return images
        thick = ops.max_pool(images, 2, strides=1, padding="same")
        thin = -ops.max_pool(-images, 2, strides=1, padding="same")
        draw = keras.random.uniform((ops.shape(images)[0], 1, 1, 1), seed=self.seed_generator)
        changed = ops.where(draw < 0.5, thick, thin)
        return ops.where(draw < self.rate, changed, images)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


def bilinear_sample(images, rows, cols):
    """``images`` (batch, height, width, 1) read at fractional ``rows``/``cols`` (batch, height, width); 0 outside.

    Written with gathers on the flattened batch, so it works when the batch size is
    unknown while ``fit`` traces the graph (``keras.ops.image.map_coordinates`` needs it known).
    """
    count, height, width = ops.shape(images)[0], images.shape[1], images.shape[2]
    flat = ops.reshape(images, (-1,))
    first = ops.reshape(ops.arange(count) * (height * width), (-1, 1, 1))
    row0, col0 = ops.floor(rows), ops.floor(cols)
    result = 0.0
    for row, row_weight in ((row0, 1.0 - (rows - row0)), (row0 + 1.0, rows - row0)):
        for col, col_weight in ((col0, 1.0 - (cols - col0)), (col0 + 1.0, cols - col0)):
            inside = (row >= 0) & (row <= height - 1) & (col >= 0) & (col <= width - 1)
            row_index = ops.cast(ops.clip(row, 0, height - 1), "int32")
            index = first + row_index * width + ops.cast(ops.clip(col, 0, width - 1), "int32")
            result = result + ops.take(flat, index) * ops.cast(inside, images.dtype) * row_weight * col_weight
    return result


@keras.saving.register_keras_serializable(package="hcr")
class RandomAffine(layers.Layer):
    """Random rotation, shift and zoom of each image in one resampling, only while training.

    Keras' RandomRotation, RandomTranslation and RandomZoom each resample the
    whole batch; composing the three into one affine map does the same
    augmentation for about a third of the cost, and blurs the strokes once
    instead of three times. With ``elastic`` > 0 each image is also bent by a
    smooth random displacement field (elastic distortion, Simard et al. 2003)
    of up to ``elastic`` pixels, in the same single resampling.
    """

    def __init__(self, rotation_degrees: float = 10.0, shift: float = 0.1, zoom: float = 0.1, elastic: float = 0.0,
                 seed: int | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.rotation_degrees, self.shift, self.zoom, self.elastic, self.seed = rotation_degrees, shift, zoom, elastic, seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training: bool = False):
        if not training:
            return images
        count, height, width = ops.shape(images)[0], images.shape[1], images.shape[2]

        def uniform(limit: float, shape: tuple = ()):
            return keras.random.uniform((count, *shape), -limit, limit, seed=self.seed_generator)

        angle = uniform(math.radians(self.rotation_degrees))
        zoom_x, zoom_y = 1.0 + uniform(self.zoom), 1.0 + uniform(self.zoom)  # above 1 shrinks the character
        shift_x, shift_y = uniform(self.shift) * width, uniform(self.shift) * height
        cos, sin = ops.cos(angle), ops.sin(angle)
        centre_x, centre_y = (width - 1) / 2.0, (height - 1) / 2.0
        # each output pixel (x, y) reads the input at (a0 x + a1 y + a2, b0 x + b1 y + b2)
        a0, a1, b0, b1 = cos * zoom_x, -sin * zoom_y, sin * zoom_x, cos * zoom_y
        a2 = centre_x - a0 * centre_x - a1 * centre_y - shift_x
        b2 = centre_y - b0 * centre_x - b1 * centre_y - shift_y
        if not self.elastic:
            none = ops.zeros_like(angle)
            transform = ops.stack([a0, a1, a2, b0, b1, b2, none, none], axis=1)
            return ops.image.affine_transform(images, transform, interpolation="bilinear", fill_mode="constant")
        # a coarse random field, smoothly enlarged: neighbouring pixels move together, as a pen's wobble does
        field = ops.image.resize(uniform(self.elastic, (4, 4, 2)), (height, width), interpolation="bicubic")
        rows, cols = ops.meshgrid(ops.arange(height, dtype="float32"), ops.arange(width, dtype="float32"), indexing="ij")

        def per_image(value):
            return ops.reshape(value, (-1, 1, 1))

        source_x = per_image(a0) * cols + per_image(a1) * rows + per_image(a2) + field[..., 0]
        source_y = per_image(b0) * cols + per_image(b1) * rows + per_image(b2) + field[..., 1]
        return bilinear_sample(images, source_y, source_x)[..., None]

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "rotation_degrees": self.rotation_degrees, "shift": self.shift,
                "zoom": self.zoom, "elastic": self.elastic, "seed": self.seed}


def augmentation(
    rotation_degrees: float = 10.0, shift: float = 0.1, zoom: float = 0.1, stroke_width: float = 0.0,
    elastic: float = 0.0,
) -> keras.Sequential:
    """Random rotations, shifts, zooms (and stroke widths, elastic distortions), only while training.

    No flips: a mirrored 'b' is a 'd'. ``stroke_width`` is the share of images
    whose ink is thickened or thinned by one pixel; ``elastic`` the largest
    displacement (pixels) of the smooth random bending.
    """
    steps = [RandomAffine(rotation_degrees, shift, zoom, elastic)]
    if stroke_width:
        steps.insert(0, RandomStrokeWidth(stroke_width))
    return keras.Sequential(steps, name="augmentation")


def conv_block(x, filters: int, convs: int, batch_norm: bool, name: str):
    """``convs`` 3×3 convolutions of ``filters`` maps, each followed by batch normalisation (if asked) and ReLU."""
    for i in range(convs):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=not batch_norm, name=f"{name}_conv{i + 1}")(x)
        if batch_norm:
            x = layers.BatchNormalization(momentum=0.9, name=f"{name}_bn{i + 1}")(x)
        x = layers.Activation("relu", name=f"{name}_relu{i + 1}")(x)
    return x


def build_cnn(
    num_classes: int,
    *,
    filters: Sequence[int] = (32, 64, 128),
    convs_per_block: int = 1,
    dense_units: int = 256,
    head: str = "gap",
    batch_norm: bool = True,
    dropout: float = 0.3,
    pool_dropout: float | None = None,
    augment: bool = True,
    rotation_degrees: float = 10.0,
    shift: float = 0.1,
    zoom: float = 0.1,
    stroke_width: float = 0.0,
    elastic: float = 0.0,
    name: str = "cnn",
) -> keras.Model:
    """A VGG-style CNN: conv blocks (each ``convs_per_block`` 3×3 convs), pooling between, a dense head.

    ``head`` summarises the last feature maps: ``"gap"`` averages each map (few
    parameters, position-blind), ``"flatten"`` keeps where each feature is.

    ``dropout`` applies before the output layer and, halved unless
    ``pool_dropout`` says otherwise, after each pooling. Each switch
    (``batch_norm``, ``dropout``, ``augment``) can be turned off to
    measure what it brings; the defaults are the chapter's best recipe.
    """
    inputs = keras.Input(shape=INPUT_SHAPE, name="pixels")
    x = layers.Rescaling(1.0 / 255, name="rescale")(inputs)
    if augment:
        x = augmentation(rotation_degrees, shift, zoom, stroke_width, elastic)(x)
    for block, width in enumerate(filters, start=1):
        if block > 1:
            x = layers.MaxPooling2D(name=f"pool{block - 1}")(x)
            rate = dropout / 2 if pool_dropout is None else pool_dropout
            if rate:
                x = layers.Dropout(rate, name=f"drop{block - 1}")(x)
        x = conv_block(x, width, convs_per_block, batch_norm, f"block{block}")
    if head not in ("gap", "flatten"):
        raise ValueError(f"head must be 'gap' (global average pooling) or 'flatten', not {head!r}")
    x = layers.GlobalAveragePooling2D(name="gap")(x) if head == "gap" else layers.Flatten(name="flatten")(x)
    x = layers.Dense(dense_units, use_bias=not batch_norm, name="dense")(x)
    if batch_norm:
        x = layers.BatchNormalization(momentum=0.9, name="dense_bn")(x)
    x = layers.Activation("relu", name="dense_relu")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dense_drop")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=name)


def build_seed_cnn(num_classes: int) -> keras.Model:
    """The course's starting point: Conv32-BN-Pool, Conv64-BN-Pool, Conv128-BN, Dense256-Dropout."""
    return build_cnn(num_classes, augment=False, dropout=0.5, pool_dropout=0.0, name="seed_cnn")
