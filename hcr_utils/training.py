"""Training recipes: what to build, how long to train, with which schedule and loss.

A :class:`Recipe` is the single definition of a chapter's final model; the
notebooks and ``hcr train`` both train from it, so they agree.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import keras
import numpy as np

from . import config
from .datasets import Dataset
from .models import build_cnn


@dataclass(frozen=True)
class Recipe:
    """Everything that decides a training run, apart from the data.

    The length of a run is a budget of ``images`` seen in all, not a number of
    epochs: it fixes the time a run takes whatever the size of the training set
    (a bigger training set gets fewer, richer epochs).
    """

    model: dict[str, Any] = field(default_factory=dict)  # keyword arguments of build_cnn
    images: int = 120_000  # training budget: images seen in all (epochs = images / training-set size)
    batch_size: int = 64
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    schedule: bool = True  # warm-up then cosine decay; False keeps the learning rate constant
    warmup_share: float = 0.1  # share of all steps spent warming the learning rate up
    label_smoothing: float = 0.1
    balance_classes: bool = False  # weight the loss by inverse class frequency
    weight_averaging: bool = False  # end with a moving average of the weights over the last tenth of the steps

    def epochs_for(self, epoch_size: int) -> int:
        """Whole epochs of ``epoch_size`` images that spend the budget (at least one)."""
        return max(1, round(self.images / epoch_size))

    def with_images(self, images: int | None) -> Recipe:
        """The same recipe with a budget of ``images`` (unchanged if None)."""
        return self if images is None else replace(self, images=images)

    def changed(self, **changes: Any) -> Recipe:
        """The same recipe with some fields replaced; ``model`` entries are merged into the recipe's own."""
        model = {**self.model, **changes.pop("model", {})}
        return replace(self, model=model, **changes)


RECIPES: dict[str, Recipe] = {
    "mnist": Recipe(
        model={"convs_per_block": 1, "head": "flatten"}, images=240_000
    ),  # chosen by 5-fold cross-validation: bench_mnist_cv.py
    "emnist": Recipe(
        model={
            "batch_norm": True,
            "dropout": 0.3,
            "augment": True,
            "rotation_degrees": 8.0,
            "shift": 0.05,
            "zoom": 0.05,
            "stroke_width": 0.5,
            "head": "flatten",
            "pool_early": True,  # each block pools before its normalisation: 1.4 times as fast on a laptop CPU
        },
        images=1_380_000,  # 13 epochs of the development images; chosen on a validation split (README)
        batch_size=512,
        learning_rate=8e-3,  # four times the batch, four times the step (linear scaling)
        balance_classes=True,
        weight_averaging=True,
    ),
}


def class_weights(labels: np.ndarray, num_classes: int) -> dict[int, float]:
    """Inverse-frequency weights that make every class weigh the same in the loss (mean weight 1)."""
    counts = np.bincount(labels, minlength=num_classes).astype(float)
    if (counts == 0).any():
        missing = np.flatnonzero(counts == 0).tolist()
        raise ValueError(f"classes {missing} have no training examples; cannot balance them")
    weights = len(labels) / (num_classes * counts)
    return {c: float(w) for c, w in enumerate(weights)}


def learning_rate_schedule(
    peak: float, steps: int, warmup_share: float = 0.1
) -> keras.optimizers.schedules.CosineDecay:
    """Linear warm-up over ``warmup_share`` of the ``steps`` to ``peak``, then cosine decay to 1% of it."""
    warmup = int(steps * warmup_share)
    return keras.optimizers.schedules.CosineDecay(
        0.0 if warmup else peak,
        decay_steps=max(steps - warmup, 1),
        alpha=0.01,
        warmup_target=peak if warmup else None,
        warmup_steps=warmup,
    )


def compile_model(model: keras.Model, recipe: Recipe, steps: int) -> keras.Model:
    """Compile ``model`` with AdamW, the recipe's schedule and a label-smoothed loss.

    With ``recipe.weight_averaging`` the optimizer also keeps an exponential
    moving average of the weights over about the last tenth of the steps, and
    ``fit`` ends by swapping the averaged weights in.
    """
    learning_rate = (
        learning_rate_schedule(recipe.learning_rate, steps, recipe.warmup_share)
        if recipe.schedule
        else recipe.learning_rate
    )
    averaging = {"use_ema": True, "ema_momentum": 1.0 - 1.0 / max(10.0, steps / 10)} if recipe.weight_averaging else {}
    model.compile(
        optimizer=keras.optimizers.AdamW(learning_rate, weight_decay=recipe.weight_decay, **averaging),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=recipe.label_smoothing),
        metrics=["accuracy"],
    )
    return model


def training_settings(model: keras.Model) -> dict[str, dict[str, Any]]:
    """A compiled model's optimizer and loss settings (without their automatic names), to compare two compile steps."""
    return {
        part: {key: value for key, value in thing.get_config().items() if key != "name"}
        for part, thing in (("optimizer", model.optimizer), ("loss", model.loss))
    }


def fit(
    model: keras.Model,
    images: np.ndarray,
    labels: np.ndarray,
    recipe: Recipe,
    *,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    callbacks: list[keras.callbacks.Callback] | None = None,
    verbose: int | str = "auto",
) -> keras.callbacks.History:
    """Compile ``model`` and train it on N×28×28 ``images`` with class-index ``labels`` for the recipe's budget.

    ``validation`` (images, labels) is scored after every epoch for the
    learning curves and callbacks. The history gains ``seconds``: the wall-clock time of the
    whole fit.
    """
    num_classes = model.output_shape[-1]
    val = None
    if validation is not None:
        val = (validation[0][..., None], keras.utils.to_categorical(validation[1], num_classes))
    start = time.perf_counter()
    epochs = recipe.epochs_for(len(labels))
    compile_model(model, recipe, epochs * int(np.ceil(len(labels) / recipe.batch_size)))
    history = model.fit(
        images[..., None],
        keras.utils.to_categorical(labels, num_classes),
        batch_size=recipe.batch_size,
        epochs=epochs,
        validation_data=val,
        class_weight=class_weights(labels, num_classes) if recipe.balance_classes else None,
        callbacks=callbacks,
        verbose=verbose,
    )
    history.history["seconds"] = [time.perf_counter() - start]
    return history


def train_recipe(
    data: Dataset, recipe: Recipe, *, seed: int = config.SEED, verbose: int | str = "auto"
) -> tuple[keras.Model, keras.callbacks.History]:
    """Seed (``seed``: the weights' start, the batches' order, the augmentation), build the recipe's model for
    ``data`` and train it on ``data``'s training set.

    If ``data`` has a validation set (:meth:`Dataset.with_validation`), it is
    scored after each epoch for the learning curves. The test set is never used here.
    """
    config.set_seed(seed)
    keras.backend.clear_session()
    model = build_cnn(data.num_classes, name=f"{data.name.split('-')[0]}_cnn", **recipe.model)
    validation = (data.x_val, data.y_val) if data.x_val is not None else None
    history = fit(model, data.x_train, data.y_train, recipe, validation=validation, verbose=verbose)
    return model, history


def validation_accuracy(model: keras.Model, data: Dataset) -> float:
    """Accuracy of ``model`` as it is now (averaged weights included) on ``data``'s validation set."""
    if data.x_val is None:
        raise ValueError(f"{data.name} has no validation set: call .with_validation() first")
    return float(np.mean(model.predict(data.x_val[..., None], batch_size=1024, verbose=0).argmax(axis=1) == data.y_val))


@dataclass(frozen=True)
class RunResult:
    """Outcome of one experiment: validation accuracy after training, training time, curves and the model."""

    accuracy: float
    seconds: float
    history: dict[str, list[float]]
    model: keras.Model


def compare_recipes(data: Dataset, recipes: dict[str, Recipe]) -> dict[str, RunResult]:
    """Train one model per recipe (same seed, same data) and score each on the validation set.

    The score is taken after ``fit`` returns, so a recipe with weight
    averaging is scored with the averaged weights it ends with (the last
    epoch's ``val_accuracy`` is computed before they are swapped in).
    """
    results = {}
    for name, recipe in recipes.items():
        model, history = train_recipe(data, recipe, verbose=0)
        results[name] = RunResult(
            validation_accuracy(model, data), history.history["seconds"][0], history.history, model
        )
        print(f"{name:<32} validation accuracy {results[name].accuracy:.2%}   ({results[name].seconds:.0f} s)")
    return results


def steps_per_second(step: Callable[[], object], seconds: float) -> float:
    """How many times a second ``step()`` runs, timed for about ``seconds`` (at least two steps) after one untimed call.

    The untimed call builds the graph, which a real run pays once.
    """
    step()
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds or steps < 2:
        step()
        steps += 1
    return steps / (time.perf_counter() - start)


def measure_speed(recipe: Recipe, num_classes: int, seconds: float = 4.0) -> float:
    """Images per second this machine trains the recipe's network at, measured for about ``seconds``.

    Random images through the recipe's network, optimizer and batch size: the
    rate a real run reaches, not its accuracy.
    """
    keras.backend.clear_session()
    model = compile_model(build_cnn(num_classes, **recipe.model), recipe, steps=1000)
    rng = np.random.default_rng(config.SEED)
    x = rng.integers(0, 256, (recipe.batch_size, 28, 28, 1)).astype("float32")
    y = keras.utils.to_categorical(rng.integers(0, num_classes, recipe.batch_size), num_classes)
    speed = recipe.batch_size * steps_per_second(lambda: model.train_on_batch(x, y), seconds)
    keras.backend.clear_session()
    return speed


def training_time_here(count: int, per_second: float, unit: str = "images") -> str:
    """One sentence: how long training ``count`` images (or lines: ``unit``) takes at this machine's measured rate."""
    seconds = count / per_second
    took = f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"
    return (
        f"This machine trains this network at about {per_second:,.0f} {unit}/s: "
        f"training {count:,} {unit} takes about {took} here."
    )


@dataclass(frozen=True)
class BudgetCurve:
    """What longer training bought a recipe: its score after runs of several budgets.

    Measured by the course on its development images (``data/measured/``): one
    run per budget, each with its own warm-up + cosine schedule, so each point is a
    finished training of that length, not a point along one longer run.
    """

    budgets: tuple[int, ...]  # what each run saw in training (images or lines), increasing
    scores: tuple[float, ...]  # each run's score: validation accuracy, or CER for the line reader
    train_images: int  # the training images of each run
    unit: str = "images"  # what a budget counts

    def score_at(self, seen: int) -> float:
        """The score the curve gives a run that sees ``seen`` (linear in the logarithm of the budget)."""
        if not self.budgets[0] <= seen <= self.budgets[-1]:
            raise ValueError(
                f"a budget of {seen:,} {self.unit} is outside the measured curve ({self.budgets[0]:,} to "
                f"{self.budgets[-1]:,} {self.unit}): choose a budget inside it"
            )
        return float(np.interp(np.log(seen), np.log(self.budgets), self.scores))


# name: (what a budget counts, the score, what the runs were scored on)
BUDGET_MEASURES = {"emnist": ("images", "accuracy", "validation"), "words": ("lines", "cer", "random test lines")}


def measured_budget_curve(name: str) -> BudgetCurve:
    """The budget curve the course measured for a recipe (``data/measured/NAME_budget.jsonl``).

    ``emnist`` (``RECIPES["emnist"]``): validation accuracy against images seen,
    one line per run of ``benchmarks/bench_emnist_variants.py --validation``;
    ``words`` (the line reader's ``WORD_RECIPE``): CER on random test lines
    against lines seen, one line per run of ``benchmarks/bench_words.py --record``.
    """
    path = config.MEASURED_DIR / f"{name}_budget.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"no measured budget curve for the {name!r} recipe: {path} is missing")
    unit, score, scored_on = BUDGET_MEASURES[name]
    runs = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    for run in runs:
        run["seen"] = run["lines"] if unit == "lines" else run["epochs"] * run["train_n"]
    runs.sort(key=lambda run: run["seen"])
    if {run["train_n"] for run in runs} != {runs[0]["train_n"]} or {run["scored_on"] for run in runs} != {scored_on}:
        raise ValueError(f"{path}: every run must train on the same images and be scored on the {scored_on}")
    return BudgetCurve(
        budgets=tuple(run["seen"] for run in runs),
        scores=tuple(run[score] for run in runs),
        train_images=runs[0]["train_n"],
        unit=unit,
    )
