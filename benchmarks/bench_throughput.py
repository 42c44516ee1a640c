"""Images per second of the EMNIST recipe's training, lever by lever, measured side by side; prints JSON lines.

    python benchmarks/bench_throughput.py --data ../shared/data [--rounds 3] [--images 12800] [--only bfloat16 'tf.data pipeline']
    python benchmarks/bench_throughput.py --data ../shared/data --typical-cpu   # oneDNN off, at most AVX2: a laptop

This CPU's speed varies up to 2× from one run to the next, so each lever is
timed in the same process, in turn with all the others, for several rounds;
the ratio to a reference lever in the same round is what counts (``--reference``: the shipped recipe
unless told; ``base`` is the recipe before the batch was raised, batches of 128). Each
timing is one epoch of ``--images`` development training images through
``fit``, after a short warm-up that traces the graph: the batch over the median step. Accuracy is not measured
here: levers that change the network or the batch must also be checked for
accuracy per epoch (``bench_emnist_variants.py --validation``). Each lever's summary
gives its multiply-adds per image, the arithmetic rate it reached and that rate's share
of this CPU's peak (``arithmetic.py``), and the first line names the CPU.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

from cpu_kinds import TYPICAL_CPU  # as on a laptop without AVX-512

if "--typical-cpu" in sys.argv and any(os.environ.get(key) != value for key, value in TYPICAL_CPU.items()):
    os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **TYPICAL_CPU})  # before TensorFlow starts

import keras
import numpy as np
import tensorflow as tf
from arithmetic import cpu_flags, cpu_model, multiply_adds, peak_flops, training_flops_per_image

from hcr_utils.datasets import load_emnist
from hcr_utils.models import build_cnn
from hcr_utils.training import RECIPES, Recipe, compile_model

SHIPPED = RECIPES["emnist"]
BEFORE = SHIPPED.changed(model={"pool_early": False})  # the recipe before its blocks pooled first
BASE = BEFORE.changed(batch_size=128, learning_rate=2e-3)  # the recipe before its batch was raised
NO_AUGMENTATION = {"augment": False, "stroke_width": 0.0}


@dataclasses.dataclass(frozen=True)
class Lever:
    """One way of training the recipe's network: its recipe and how ``fit`` is called."""

    recipe: Recipe = BASE
    policy: str = "float32"  # "mixed_bfloat16": bfloat16 compute, float32 weights
    jit_compile: bool = False
    steps_per_execution: int = 1
    tf_data: bool = False  # feed fit a shuffled, batched, prefetched tf.data pipeline instead of arrays


LEVERS: dict[str, Lever] = {
    "base": Lever(),
    "batch 256": Lever(BASE.changed(batch_size=256)),
    "batch 512 (the shipped recipe)": Lever(SHIPPED),
    "batch 512, 32-64-128 pooled after (the recipe before)": Lever(BEFORE),
    "bfloat16": Lever(policy="mixed_bfloat16"),
    "steps_per_execution 8": Lever(steps_per_execution=8),
    "tf.data pipeline": Lever(tf_data=True),
    "no augmentation (its cost)": Lever(BASE.changed(model=NO_AUGMENTATION)),
    "no augmentation, batch 512 (its cost)": Lever(SHIPPED.changed(model=NO_AUGMENTATION)),
    "no weight averaging, batch 512 (its cost)": Lever(SHIPPED.changed(weight_averaging=False)),
    "XLA (jit_compile), no augmentation": Lever(BASE.changed(model=NO_AUGMENTATION), jit_compile=True),
    "16 filters at 28×28": Lever(BASE.changed(model={"filters": (16, 64, 128)})),
    "16 filters at 28×28, batch 512": Lever(BASE.changed(batch_size=512, model={"filters": (16, 64, 128)})),
    "narrower 24-48-96, batch 512": Lever(BASE.changed(batch_size=512, model={"filters": (24, 48, 96)})),
    "two convs per stage": Lever(BASE.changed(model={"convs_per_block": 2})),
    "separable blocks 2-3, batch 512": Lever(BEFORE.changed(model={"separable": True})),
    "pool early, batch 512": Lever(BEFORE.changed(model={"pool_early": True})),
    "Keras' own batch norm, batch 512": Lever(BEFORE.changed(model={"fused_norm": False})),
    "pool early, Keras' own batch norm, batch 512": Lever(
        BEFORE.changed(model={"pool_early": True, "fused_norm": False})
    ),
    "pool early, 24-48-96, batch 512": Lever(SHIPPED.changed(model={"filters": (24, 48, 96)})),
    "pool early, separable blocks 2-3, batch 512": Lever(BEFORE.changed(model={"pool_early": True, "separable": True})),
    "pool early, separable, 16 filters at 28×28, batch 512": Lever(
        BEFORE.changed(model={"pool_early": True, "separable": True, "filters": (16, 64, 128)})
    ),
}
REFERENCE = "batch 512 (the shipped recipe)"


class StepTimes(keras.callbacks.Callback):
    """The wall time of every training step of a ``fit`` call."""

    def on_train_begin(self, logs=None) -> None:
        self.times = [time.perf_counter()]

    def on_train_batch_end(self, batch, logs=None) -> None:
        self.times.append(time.perf_counter())

    def median_step(self) -> float:
        return float(np.median(np.diff(self.times)))


def images_per_second(lever: Lever, x: np.ndarray, y: np.ndarray) -> float:
    """One epoch of ``x`` through ``fit`` with ``lever``, after a warm-up of ten batches: images over the median step.

    The median step, not the epoch's wall time: ``fit`` sometimes pauses a second or two
    at the end of an epoch, which a long training hardly notices but a short timing does.
    """
    keras.mixed_precision.set_global_policy(lever.policy)
    try:
        keras.backend.clear_session()
        model = build_cnn(47, **lever.recipe.model)
        compile_model(model, lever.recipe, 1000)
        model.compile(
            optimizer=model.optimizer,
            loss=model.loss,
            metrics=["accuracy"],
            jit_compile=lever.jit_compile,
            steps_per_execution=lever.steps_per_execution,
        )
        batch, steps = lever.recipe.batch_size, StepTimes()
        if lever.tf_data:
            data = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x)).batch(batch).prefetch(tf.data.AUTOTUNE)
            model.fit(data.take(10), epochs=1, verbose=0)
            model.fit(data, epochs=1, verbose=0, callbacks=[steps])
        else:
            model.fit(x[: 10 * batch], y[: 10 * batch], batch_size=batch, epochs=1, verbose=0)
            model.fit(x, y, batch_size=batch, epochs=1, verbose=0, callbacks=[steps])
        return batch * lever.steps_per_execution / steps.median_step()
    finally:
        keras.mixed_precision.set_global_policy("float32")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="folder with emnist-dev/")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--images", type=int, default=12_800, help="images per timed epoch")
    parser.add_argument("--only", nargs="*", choices=list(LEVERS), help="levers to time (the reference always is)")
    parser.add_argument("--reference", choices=list(LEVERS), default=REFERENCE, help="the lever the ratios are to")
    parser.add_argument("--typical-cpu", action="store_true", help="oneDNN off and limited to AVX2, as on most laptops")
    args = parser.parse_args()
    print(
        json.dumps(
            {
                "cpu": cpu_model(),
                "cores": os.cpu_count(),
                "avx512": "avx512f" in cpu_flags(),
                "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default"),
                "max_isa": os.environ.get("ONEDNN_MAX_CPU_ISA", "default"),
                "peak_gflops": round(peak_flops() / 1e9),
            }
        ),
        flush=True,
    )
    data = load_emnist("balanced", args.data / "emnist-dev")
    x = data.x_train[: args.images, ..., None].astype("float32")
    y = keras.utils.to_categorical(data.y_train[: args.images], 47)
    names = [args.reference, *[name for name in (args.only or LEVERS) if name != args.reference]]
    rates: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(args.rounds):
        for name in names:
            rates[name].append(images_per_second(LEVERS[name], x, y))
            print(json.dumps({"round": round_, "lever": name, "images_per_second": round(rates[name][-1])}), flush=True)
    for name in names:
        ratios = np.array(rates[name]) / np.array(rates[args.reference])
        model = build_cnn(47, **LEVERS[name].recipe.model)
        rate = float(np.median(rates[name])) * training_flops_per_image(model)
        print(
            json.dumps(
                {
                    "lever": name,
                    "images_per_second_median": round(float(np.median(rates[name]))),
                    "multiply_adds_per_image": multiply_adds(model),
                    "gflops": round(rate / 1e9, 1),
                    "share_of_peak": round(rate / peak_flops(), 2),
                    "ratio_to_reference_median": round(float(np.median(ratios)), 2),
                    "ratio_per_round": [round(float(r), 2) for r in ratios],
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
