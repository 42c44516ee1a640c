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
    """Where in a 28×28 ``image`` the evidence for ``class_index`` lies: Grad-CAM with per-position weights.

    Grad-CAM (Selvaraju et al. 2017) weights each feature map of ``layer``
    (default: the last convolution) by how much the class's log-probability
    grows with it, sums the maps and keeps the positive part. Here each
    position gets its own gradient as weight (HiResCAM, Draelos & Carin 2020):
    the same as Grad-CAM for a global-average-pooling head, and faithful to
    a flatten head too, where a feature counts differently at each position.
    Returns a 28×28 map scaled to [0, 1] (all zero: no positive evidence).
    """
    layer = layer or last_conv_layer(model)
    probe = keras.Model(model.inputs[0], [model.get_layer(layer).output, model.outputs[0]])
    batch = tf.constant(np.asarray(image, np.float32)[None, ..., None])
    with tf.GradientTape() as tape:
        maps, probabilities = probe(batch, training=False)
        score = tf.math.log(probabilities[:, class_index] + 1e-9)  # log-probability: gradients do not vanish near 1
    gradients = tape.gradient(score, maps)[0].numpy()
    cam = np.maximum((maps[0].numpy() * gradients).sum(axis=-1), 0.0)
    cam = ndimage.zoom(cam, (image.shape[0] / cam.shape[0], image.shape[1] / cam.shape[1]), order=1)
    return cam / cam.max() if cam.max() > 0 else cam
