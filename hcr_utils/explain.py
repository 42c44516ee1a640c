"""Look inside a trained CNN: what a layer computes for an image, and where a decision came from (Grad-CAM)."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from scipy import ndimage


def layer_outputs(model: keras.Model, images: np.ndarray, layer: str) -> np.ndarray:
    """What layer ``layer`` outputs for N×28×28 uint8 ``images`` (inference mode): N×H×W×F feature maps."""
    probe = keras.Model(model.inputs[0], model.get_layer(layer).output)
    return keras.ops.convert_to_numpy(probe(np.asarray(images, np.float32)[..., None], training=False))


def last_conv_layer(model: keras.Model) -> str:
    """Name of the model's last convolution's activation: the finest map that still keeps positions."""
    names = [layer.name for layer in model.layers if "relu" in layer.name and "dense" not in layer.name]
    if not names:
        raise ValueError(f"{model.name} has no convolution activation to explain")
    return names[-1]


def grad_cam(model: keras.Model, image: np.ndarray, class_index: int, layer: str | None = None) -> np.ndarray:
    """Grad-CAM (Selvaraju et al. 2017): where in a 28×28 ``image`` the evidence for ``class_index`` lies.

    The feature maps of ``layer`` (default: the last convolution) are weighted
    by how much the class's score grows with each map (its mean gradient), summed,
    and only the positive part is kept. Returns a 28×28 map scaled to [0, 1].
    """
    layer = layer or last_conv_layer(model)
    probe = keras.Model(model.inputs[0], [model.get_layer(layer).output, model.outputs[0]])
    batch = tf.constant(np.asarray(image, np.float32)[None, ..., None])
    with tf.GradientTape() as tape:
        maps, probabilities = probe(batch, training=False)
        score = tf.math.log(probabilities[:, class_index] + 1e-9)  # log-probability: gradients do not vanish near 1
    gradients = tape.gradient(score, maps)[0].numpy()
    maps = maps[0].numpy()
    weights = gradients.mean(axis=(0, 1))
    cam = np.maximum((maps * weights).sum(axis=-1), 0.0)
    cam = ndimage.zoom(cam, (image.shape[0] / cam.shape[0], image.shape[1] / cam.shape[1]), order=1)
    return cam / cam.max() if cam.max() > 0 else cam
