"""How much arithmetic a network costs, and how much this CPU could do: the yardstick for training speed.

``multiply_adds(model)`` counts the multiply-adds of one image's forward pass through
the convolutions and dense layers (the rest is small); a training step costs about
three times that (forward, and the two products of the backward pass), two floating-point
operations each. ``peak_flops()`` is this CPU's float32 peak: cores × clock ×
floating-point operations a cycle (two fused multiply-add units of 8 floats with AVX2, the same with
AMD's AVX-512 before Zen 5, which runs 512-bit work on 256-bit units; 16 floats with Intel's and
Zen 5's, when oneDNN runs TensorFlow's arithmetic, since TensorFlow's own kernels are AVX2).
"""

from __future__ import annotations

import os
from pathlib import Path

import keras
import numpy as np


def multiply_adds(model: keras.Model) -> int:
    """Multiply-adds of one image's forward pass through the model's Conv2D, DepthwiseConv2D and Dense layers."""
    total = 0
    for layer in _layers(model):
        if isinstance(layer, keras.layers.DepthwiseConv2D):
            height, width, channels = layer.output.shape[1:]
            total += height * width * channels * int(np.prod(layer.kernel_size))
        elif isinstance(layer, keras.layers.Conv2D):
            height, width, filters = layer.output.shape[1:]
            total += height * width * filters * int(np.prod(layer.kernel_size)) * layer.input.shape[-1] // layer.groups
        elif isinstance(layer, keras.layers.Dense):
            total += int(np.prod(layer.kernel.shape))
    return int(total)


def training_flops_per_image(model: keras.Model) -> int:
    """About 3 passes of 2 operations per multiply-add: the forward pass, and the backward pass's two products."""
    return 6 * multiply_adds(model)


def _layers(model: keras.Model):
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _layers(layer)
        else:
            yield layer


def _cpuinfo() -> str:
    """The text of /proc/cpuinfo (Linux); empty elsewhere."""
    info = Path("/proc/cpuinfo")
    return info.read_text() if info.exists() else ""


def _field(name: str, text: str) -> str | None:
    return next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith(name)), None)


def cpu_flags() -> set[str]:
    """The CPU's feature flags (Linux); empty elsewhere."""
    return set((_field("flags", _cpuinfo()) or "").split())


def cpu_model() -> str:
    """The CPU's model name as lscpu shows it (Linux); 'unknown' elsewhere."""
    return _field("model name", _cpuinfo()) or "unknown"


def cpu_description() -> dict[str, object]:
    """The CPU as a benchmark records it: its model name, core count and whether it has AVX-512."""
    return {"cpu_model": cpu_model(), "cores": os.cpu_count(), "avx512": "avx512f" in cpu_flags()}


def full_width_avx512(text: str, flags: set[str], environ: dict[str, str]) -> bool:
    """Whether TensorFlow's arithmetic runs 16 floats a vector here: AVX-512 on 512-bit units (Intel's, or AMD's
    from Zen 5, family 26), with oneDNN on and not limited to AVX2 (TensorFlow's own kernels are AVX2)."""
    if "avx512f" not in flags or environ.get("TF_ENABLE_ONEDNN_OPTS") == "0":
        return False
    if environ.get("ONEDNN_MAX_CPU_ISA", "").upper().startswith("AVX2"):
        return False
    family = int(_field("cpu family", text) or 0)
    return "GenuineIntel" in text or ("AuthenticAMD" in text and family >= 26)


def peak_flops(gigahertz: float | None = None) -> float:
    """Float32 operations per second at peak on all cores (two FMA units a core)."""
    text = _cpuinfo()
    if gigahertz is None:
        gigahertz = float(_field("cpu MHz", text) or 2200.0) / 1000
    floats = 16 if full_width_avx512(text, cpu_flags(), dict(os.environ)) else 8
    return (os.cpu_count() or 1) * gigahertz * 1e9 * 2 * floats * 2  # cores × clock × FMA units × lanes × 2 ops
