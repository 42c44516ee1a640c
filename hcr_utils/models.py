"""CNN builders for 28×28 characters.

Every model takes raw pixels (0-255, shape 28×28×1) and returns class
probabilities: rescaling and training-time augmentation are layers inside the
model, so a saved ``.keras`` file needs no separate preprocessing code.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers

INPUT_SHAPE = (28, 28, 1)


def augmentation(rotation_degrees: float = 10.0, shift: float = 0.1, zoom: float = 0.1) -> keras.Sequential:
    """Random rotations, shifts and zooms, active only while training (no flips: a flipped 'b' is a 'd')."""
    return keras.Sequential(
        [
            layers.RandomRotation(rotation_degrees / 360.0, fill_mode="constant"),
            layers.RandomTranslation(shift, shift, fill_mode="constant"),
            layers.RandomZoom(zoom, zoom, fill_mode="constant"),
        ],
        name="augmentation",
    )


def _conv_block(x, filters: int, convs: int, batch_norm: bool, name: str):
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
        x = augmentation(rotation_degrees, shift, zoom)(x)
    for block, width in enumerate(filters, start=1):
        if block > 1:
            x = layers.MaxPooling2D(name=f"pool{block - 1}")(x)
            rate = dropout / 2 if pool_dropout is None else pool_dropout
            if rate:
                x = layers.Dropout(rate, name=f"drop{block - 1}")(x)
        x = _conv_block(x, width, convs_per_block, batch_norm, f"block{block}")
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
