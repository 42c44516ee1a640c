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


@keras.saving.register_keras_serializable(package="hcr")
class FusedBatchNormalization(layers.BatchNormalization):
    """Keras' batch normalisation, trained with TensorFlow's fused kernel on 4-D float32 maps.

    The same function and weights, but one pass over the maps forward and one backward,
    where Keras 3's own layer makes several: the conv blocks train 1.2-1.4× faster on a
    CPU. The moving variance is updated with the batch's unbiased variance (n/(n-1) times
    Keras', with n the values per channel: 1.00001 for 512 maps of 14×14). Inference, and any
    other backend, shape or dtype, is Keras' own code.
    """

    def call(self, inputs, training=None, mask=None):
        fusable = (
            keras.backend.backend() == "tensorflow"
            and len(inputs.shape) == 4
            and self.axis in (3, -1)
            and keras.backend.standardize_dtype(inputs.dtype) == "float32"
            and self.center
            and self.scale
            and mask is None
        )
        if not (training and self.trainable and fusable):
            return super().call(inputs, training=training, mask=mask)
        import tensorflow as tf

        outputs, mean, variance, *_ = tf.raw_ops.FusedBatchNormV3(
            x=inputs,
            scale=self.gamma.value,
            offset=self.beta.value,
            mean=self.moving_mean.value,
            variance=self.moving_variance.value,
            epsilon=self.epsilon,
            exponential_avg_factor=1 - self.momentum,  # returns the moving statistics, updated
            data_format="NHWC",
            is_training=True,
        )
        self.moving_mean.assign(mean)
        self.moving_variance.assign(variance)
        return outputs


@keras.saving.register_keras_serializable(package="hcr")
class RandomAffine(layers.Layer):
    """Random rotation, shift and zoom of each image in one resampling, only while training.

    Keras' RandomRotation, RandomTranslation and RandomZoom each resample the
    whole batch; composing the three into one affine map does the same
    augmentation for about a third of the cost, and blurs the strokes once
    instead of three times.
    """

    def __init__(
        self, rotation_degrees: float = 10.0, shift: float = 0.1, zoom: float = 0.1, seed: int | None = None, **kwargs
    ) -> None:
        super().__init__(**kwargs)
        self.rotation_degrees, self.shift, self.zoom, self.seed = rotation_degrees, shift, zoom, seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    @classmethod
    def from_config(cls, config: dict) -> RandomAffine:
        """The layer of a saved model; the shipped files, saved before elastic distortion was dropped, say ``"elastic": 0.0``."""
        return cls(**{key: value for key, value in config.items() if key != "elastic"})

    def call(self, images, training: bool = False):
        if not training:
            return images
        count, height, width = ops.shape(images)[0], images.shape[1], images.shape[2]

        def uniform(limit: float):
            return keras.random.uniform((count,), -limit, limit, seed=self.seed_generator)

        angle = uniform(math.radians(self.rotation_degrees))
        zoom_x, zoom_y = 1.0 + uniform(self.zoom), 1.0 + uniform(self.zoom)  # above 1 shrinks the character
        shift_x, shift_y = uniform(self.shift) * width, uniform(self.shift) * height
        cos, sin = ops.cos(angle), ops.sin(angle)
        centre_x, centre_y = (width - 1) / 2.0, (height - 1) / 2.0
        # each output pixel (x, y) reads the input at (a0 x + a1 y + a2, b0 x + b1 y + b2)
        a0, a1, b0, b1 = cos * zoom_x, -sin * zoom_y, sin * zoom_x, cos * zoom_y
        a2 = centre_x - a0 * centre_x - a1 * centre_y - shift_x
        b2 = centre_y - b0 * centre_x - b1 * centre_y - shift_y
        none = ops.zeros_like(angle)
        transform = ops.stack([a0, a1, a2, b0, b1, b2, none, none], axis=1)
        return ops.image.affine_transform(images, transform, interpolation="bilinear", fill_mode="constant")

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "rotation_degrees": self.rotation_degrees,
            "shift": self.shift,
            "zoom": self.zoom,
            "seed": self.seed,
        }


def augmentation(
    rotation_degrees: float = 10.0,
    shift: float = 0.1,
    zoom: float = 0.1,
    stroke_width: float = 0.0,
) -> keras.Sequential:
    """Random rotations, shifts, zooms (and stroke widths), only while training.

    No flips: a mirrored 'b' is a 'd'. ``stroke_width`` is the share of images
    whose ink is thickened or thinned by one pixel.
    """
    steps = [RandomAffine(rotation_degrees, shift, zoom)]
    if stroke_width:
        steps.insert(0, RandomStrokeWidth(stroke_width))
    return keras.Sequential(steps, name="augmentation")


FILTERS = (32, 64, 128)  # the maps of the three blocks of build_cnn (and of the line reader's)


def conv_block(
    x,
    filters: int,
    convs: int,
    batch_norm: bool,
    name: str,
    separable: bool = False,
    pool_name: str | None = None,
    fused_norm: bool = True,
):
    """``convs`` 3×3 convolutions of ``filters`` maps, each followed by batch normalisation (if asked) and ReLU.

    A ``separable`` convolution is done in two cheaper steps: a 3×3 filter on each
    input map alone (depthwise), then a 1×1 convolution that mixes the maps. With a
    ``pool_name`` the last convolution's maps are max-pooled 2×2 before their
    normalisation and ReLU, which then work on a quarter of the pixels. The
    normalisation is :class:`FusedBatchNormalization` (Keras' own with ``fused_norm=False``).
    """
    for i in range(convs):
        if separable:
            x = layers.DepthwiseConv2D(3, padding="same", use_bias=False, name=f"{name}_depthwise{i + 1}")(x)
        kernel = 1 if separable else 3
        x = layers.Conv2D(filters, kernel, padding="same", use_bias=not batch_norm, name=f"{name}_conv{i + 1}")(x)
        if pool_name and i == convs - 1:
            x = layers.MaxPooling2D(name=pool_name)(x)
        if batch_norm:
            norm = FusedBatchNormalization if fused_norm else layers.BatchNormalization
            x = norm(momentum=0.9, name=f"{name}_bn{i + 1}")(x)
        x = layers.Activation("relu", name=f"{name}_relu{i + 1}")(x)
    return x


def build_cnn(
    num_classes: int,
    *,
    filters: Sequence[int] = FILTERS,
    convs_per_block: int = 1,
    dense_units: int = 256,
    head: str = "gap",
    separable: bool = False,
    pool_early: bool = False,
    fused_norm: bool = True,
    batch_norm: bool = True,
    dropout: float = 0.3,
    pool_dropout: float | None = None,
    augment: bool = True,
    rotation_degrees: float = 10.0,
    shift: float = 0.1,
    zoom: float = 0.1,
    stroke_width: float = 0.0,
    name: str = "cnn",
) -> keras.Model:
    """A VGG-style CNN: conv blocks (each ``convs_per_block`` 3×3 convs), pooling between, a dense head.

    ``head`` summarises the last feature maps: ``"gap"`` averages each map (few
    parameters, position-blind), ``"flatten"`` keeps where each feature is.

    ``dropout`` applies before the output layer and, halved unless
    ``pool_dropout`` says otherwise, after each pooling. Each switch
    (``batch_norm``, ``dropout``, ``augment``) can be turned off to
    measure what it brings; with ``head="flatten"`` the defaults are the MNIST recipe's network.
    ``fused_norm=False`` normalises the blocks with Keras' own layer instead of the fused one.
    """
    inputs = keras.Input(shape=INPUT_SHAPE, name="pixels")
    x = layers.Rescaling(1.0 / 255, name="rescale")(inputs)
    if augment:
        x = augmentation(rotation_degrees, shift, zoom, stroke_width)(x)
    for block, width in enumerate(filters, start=1):
        if block > 1:
            if not pool_early:
                x = layers.MaxPooling2D(name=f"pool{block - 1}")(x)
            rate = dropout / 2 if pool_dropout is None else pool_dropout
            if rate:
                x = layers.Dropout(rate, name=f"drop{block - 1}")(x)
        pool_name = f"pool{block}" if pool_early and block < len(filters) else None
        x = conv_block(
            x, width, convs_per_block, batch_norm, f"block{block}", separable and block > 1, pool_name, fused_norm
        )
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
    """The course's starting point: Conv32-BN-Pool, Conv64-BN-Pool, Conv128-BN, Dense256-Dropout.

    Its layers are plain Keras ones, Keras' own batch normalisation included, as notebook 02 writes them
    (the fused one comes in notebook 04)."""
    return build_cnn(num_classes, augment=False, dropout=0.5, pool_dropout=0.0, fused_norm=False, name="seed_cnn")


def _without_names(settings: object) -> object:
    """A layer configuration without its names, which differ between two builds of one network."""
    if isinstance(settings, dict):
        return {key: _without_names(value) for key, value in settings.items() if key != "name"}
    return [_without_names(value) for value in settings] if isinstance(settings, list) else settings


def network_differences(model: keras.Model, reference: keras.Model) -> list[str]:
    """How ``model`` differs from ``reference``, layer by layer (type and settings, names aside), and in its number
    of weights: an empty list when they are the same network."""
    differences = [
        f"layer {index} ({mine.name}): {type(mine).__name__} {_without_names(mine.get_config())} "
        f"where the reference has {type(theirs).__name__} {_without_names(theirs.get_config())}"
        for index, (mine, theirs) in enumerate(zip(model.layers, reference.layers))
        if type(mine) is not type(theirs) or _without_names(mine.get_config()) != _without_names(theirs.get_config())
    ]
    if len(model.layers) != len(reference.layers):
        differences.append(f"{len(model.layers)} layers where the reference has {len(reference.layers)}")
    if model.count_params() != reference.count_params():
        differences.append(f"{model.count_params():,} weights where the reference has {reference.count_params():,}")
    return differences
