"""The CRNN: the character CNN's convolutions slid along a line, a bidirectional LSTM on top, logits per frame.

Its output gives every frame (one per ``STRIDE`` pixels of line) a logit for the
CTC blank and for each class; CTC (Graves et al. 2006) trains it from the text
alone, without saying where each character is.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from ..models import FILTERS, FusedBatchNormalization, conv_block
from ..preprocessing import LINE_HEIGHT
from ..saved import ModelFileError

CHARACTER_LAYERS = ("block1_conv1", "block1_bn1", "block2_conv1", "block2_bn1", "block3_conv1", "block3_bn1")


def build_crnn(
    num_classes: int,
    *,
    sequence: str = "lstm",
    units: int = 128,
    window_rank: int = 64,
    dropout: float = 0.25,
    name: str = "crnn",
) -> keras.Model:
    """A CRNN: the character CNN's convolutions slid along a 28-pixel-high line, then a sequence layer.

    The convolutions (the EMNIST recipe's blocks: ``FILTERS`` maps, the first
    two pooled before their normalisation) turn the line into a
    7-row map, one column per 4 pixels; ``window`` (a 7×7 convolution, the character model's dense
    layer made convolutional) looks at 28 pixels around each column, as the
    character model looks at one 28×28 image. It is factored in two, a 7×7
    convolution to ``window_rank`` maps and a 1×1 one to 256 features, which
    keeps a quarter of its weights (and of the file). ``sequence`` then reads the
    frames: ``"lstm"`` (a bidirectional LSTM) or ``"conv"`` (two 1-D
    convolutions, 9 frames wide in all). The output gives, for every frame,
    logits for the blank (0) and each class (1..``num_classes``).
    """
    inputs = keras.Input((LINE_HEIGHT, None, 1), name="pixels")
    x = layers.Rescaling(1.0 / 255, name="rescale")(inputs)
    for block, width in enumerate(FILTERS, start=1):
        pool_name = f"pool{block}" if block < len(FILTERS) else None
        x = conv_block(x, width, 1, True, f"block{block}", pool_name=pool_name)
    x = layers.ZeroPadding2D(((0, 0), (3, 3)), name="window_pad")(x)
    x = layers.Conv2D(window_rank, (7, 7), use_bias=False, name="window")(x)
    x = layers.Conv2D(256, 1, use_bias=False, name="window_mix")(x)
    x = FusedBatchNormalization(momentum=0.9, name="window_bn")(x)
    x = layers.Activation("relu", name="window_relu")(x)
    x = layers.Reshape((-1, 256), name="frames")(x)
    frames = layers.Dropout(dropout, name="frames_drop")(x)
    if sequence == "lstm":
        x = layers.Bidirectional(layers.LSTM(units, return_sequences=True), name="sequence")(frames)
    elif sequence == "conv":
        x = frames
        for i in (1, 2):
            x = layers.Conv1D(2 * units, 5, padding="same", activation="relu", name=f"sequence{i}")(x)
    else:
        raise ValueError(f"sequence must be 'lstm' or 'conv', not {sequence!r}")
    x = layers.Concatenate(name="frames_and_sequence")([frames, x])
    outputs = layers.Dense(num_classes + 1, name="logits")(x)
    return keras.Model(inputs, outputs, name=name)


def start_from_characters(crnn: keras.Model, characters: keras.Model) -> None:
    """Copy a trained character CNN (``build_cnn`` with a flatten head) into the CRNN's convolutions and window.

    The character model's dense layer reads the last block's 7×7 map flattened row by row,
    the layout of a 7×7 convolution's kernel: reshaped, it becomes the window;
    its best approximation of the window's rank (the largest singular values,
    by SVD) is split between ``window`` and ``window_mix``.
    Its output layer becomes the part of ``logits`` that reads the window's
    features (the sequence layer's part starts at zero, the blank's column
    learns from scratch): from the first step, a frame centred on a character names it.

    Raises:
        ModelFileError: the character model's blocks are not the CRNN's (a model trained with an earlier recipe).
    """
    found = tuple(characters.get_layer(f"block{block}_conv1").filters for block in range(1, len(FILTERS) + 1))
    names = [layer.name for layer in characters.layers]
    pooled_first = names.index("pool1") == names.index("block1_conv1") + 1
    if found != FILTERS or not pooled_first:
        raise ModelFileError(
            f"this character model's blocks differ from the line reader's ({', '.join(map(str, FILTERS))} maps, each "
            "pooled before its normalisation): it was trained with an earlier recipe. Train it again in notebook 06 "
            "(or `hcr train emnist`), or start from the shipped one"
        )
    for name in CHARACTER_LAYERS:
        crnn.get_layer(name).set_weights(characters.get_layer(name).get_weights())
    window, mix = crnn.get_layer("window"), crnn.get_layer("window_mix")
    u, s, vt = np.linalg.svd(characters.get_layer("dense").get_weights()[0], full_matrices=False)
    rank = window.kernel.shape[-1]
    window.set_weights([(u[:, :rank] * s[:rank]).reshape(window.kernel.shape)])
    mix.set_weights([vt[:rank].reshape(mix.kernel.shape)])
    crnn.get_layer("window_bn").set_weights(characters.get_layer("dense_bn").get_weights())
    kernel, bias = (np.zeros_like(weights) for weights in crnn.get_layer("logits").get_weights())
    char_kernel, char_bias = characters.get_layer("probabilities").get_weights()
    kernel[: len(char_kernel), 1:], bias[1:] = char_kernel, char_bias
    crnn.get_layer("logits").set_weights([kernel, bias])
