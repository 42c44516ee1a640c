"""Models, recipes, class weights, schedules and evaluation measures."""

from __future__ import annotations

import json
import time
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
import pytest

from hcr_utils import config, plots
from hcr_utils.datasets import load_emnist, load_mnist
from hcr_utils.evaluation import Evaluation, top_k_accuracy
from hcr_utils.models import FusedBatchNormalization, RandomAffine, build_cnn, build_seed_cnn, network_differences
from hcr_utils.training import (
    RECIPES,
    Recipe,
    class_weights,
    compare_recipes,
    fit,
    learning_rate_schedule,
    measured_budget_curve,
    steps_per_second,
    train_recipe,
    training_time_here,
)
from hcr_utils.words import WORD_RECIPE


def test_class_weights_balance_the_real_emnist_sample(sample_dir: Path) -> None:
    labels = load_emnist("balanced", sample_dir / "emnist").y_train[:1500]  # an unbalanced slice of real labels
    counts = np.bincount(labels, minlength=47)
    weights = class_weights(labels, 47)
    total_per_class = np.array([counts[c] * weights[c] for c in range(47)])
    assert np.allclose(total_per_class, total_per_class[0])  # every class now weighs the same
    assert np.isclose(sum(counts[c] * w for c, w in weights.items()) / len(labels), 1.0)  # mean weight 1
    assert weights[int(counts.argmin())] > weights[int(counts.argmax())]


def test_class_weights_refuse_a_missing_class() -> None:
    with pytest.raises(ValueError, match=r"classes \[2\] have no training examples"):
        class_weights(np.array([0, 1, 1, 3]), 4)


def test_random_affine_moves_ink_only_while_training() -> None:
    images = np.zeros((8, 28, 28, 1), "float32")
    images[:, 8:20, 12:16] = 1.0  # a bar in the middle
    assert np.array_equal(RandomAffine(10, 0.1, 0.1)(images, training=False), images)
    assert np.allclose(RandomAffine(0, 0, 0)(images, training=True), images, atol=1e-6)  # zero ranges: identity
    moved = RandomAffine(0, 0.1, 0)(images, training=True).numpy()
    assert not np.allclose(moved, images)
    assert np.allclose(moved.sum(axis=(1, 2, 3)), images[0].sum(), rtol=1e-3)  # shifted, not cut or stretched
    turned = RandomAffine(90, 0, 0)(images, training=True).numpy()
    assert (turned[:, 4:24, 4:24] > 0.5).any(axis=(1, 2, 3)).all()
    assert not np.allclose(turned, images)


def test_schedule_warms_up_then_decays() -> None:
    schedule = learning_rate_schedule(1e-3, steps=1000, warmup_share=0.1)
    rates = [float(schedule(step)) for step in (0, 50, 100, 550, 1000)]
    assert rates[0] == 0.0
    assert rates[1] == pytest.approx(5e-4)
    assert rates[2] == pytest.approx(1e-3)
    assert rates[2] > rates[3] > rates[4]
    assert rates[4] == pytest.approx(1e-5)


def test_cnn_takes_raw_pixels_and_augments_only_in_training() -> None:
    model = build_cnn(47)
    images = np.random.default_rng(0).integers(0, 256, (4, 28, 28, 1)).astype("float32")
    first, second = model(images, training=False).numpy(), model(images, training=False).numpy()
    assert first.shape == (4, 47)
    assert np.allclose(first.sum(axis=1), 1, atol=1e-5)
    assert np.array_equal(first, second)
    augmented = model.get_layer("augmentation")(images, training=True).numpy()
    assert not np.allclose(augmented, images)


def test_seed_cnn_has_no_augmentation_and_rejects_unknown_head() -> None:
    assert "augmentation" not in [layer.name for layer in build_seed_cnn(10).layers]
    assert not any(isinstance(layer, FusedBatchNormalization) for layer in build_seed_cnn(10).layers)  # as in 02
    with pytest.raises(ValueError, match="head must be"):
        build_cnn(10, head="max")


def test_network_differences_name_what_differs_and_nothing_else() -> None:
    recipe = RECIPES["emnist"].model
    assert network_differences(build_cnn(47, **recipe), build_cnn(47, **recipe)) == []  # names aside, one network
    fewer_classes = network_differences(build_cnn(10, **recipe), build_cnn(47, **recipe))
    assert len(fewer_classes) == 2
    assert (
        fewer_classes[0].startswith("layer ")
        and "probabilities" in fewer_classes[0]
        and "'units': 10" in fewer_classes[0]
    )
    assert "weights where the reference has" in fewer_classes[1]
    other_head = network_differences(build_cnn(47, **{**recipe, "head": "gap"}), build_cnn(47, **recipe))
    assert any("GlobalAveragePooling2D" in line and "Flatten" in line for line in other_head)


def test_pooling_early_computes_the_same_function_on_real_characters(sample_dir: Path) -> None:
    images = load_emnist("balanced", sample_dir / "emnist").x_test[:16, ..., None].astype("float32")
    plain = {"filters": (8, 16, 32), "dense_units": 16, "head": "flatten", "batch_norm": False, "augment": False}
    late, early = build_cnn(47, **plain), build_cnn(47, pool_early=True, **plain)
    names = [layer.name for layer in early.layers]
    assert names.index("pool1") == names.index("block1_conv1") + 1  # pooled before the ReLU
    assert names.index("pool1") < names.index("block1_relu1") < names.index("drop1") < names.index("block2_conv1")
    for layer in late.layers:
        early.get_layer(layer.name).set_weights(layer.get_weights())
    assert np.allclose(early(images).numpy(), late(images).numpy(), atol=1e-6)  # ReLU and max pooling commute


def test_fused_batch_norm_trains_like_keras_own_on_real_characters(sample_dir: Path) -> None:
    import tensorflow as tf

    images = load_emnist("balanced", sample_dir / "emnist").x_train[:64, ..., None].astype("float32")
    maps = keras.layers.Conv2D(16, 3, kernel_initializer=keras.initializers.GlorotUniform(seed=1))(images / 255)
    weights = tf.constant(np.random.default_rng(0).normal(size=maps.shape).astype("float32"))
    found = {}
    for kind in (keras.layers.BatchNormalization, FusedBatchNormalization):
        layer = kind(momentum=0.9)
        layer.build(maps.shape)
        layer.gamma.assign(np.linspace(0.5, 1.5, 16))
        layer.beta.assign(np.linspace(-1, 1, 16))
        with tf.GradientTape() as tape:
            tape.watch(maps)
            outputs = layer(maps, training=True)
            loss = tf.reduce_sum(outputs * weights)
        gradients = tape.gradient(loss, [maps, layer.gamma, layer.beta])
        moving = [layer.moving_mean.numpy(), layer.moving_variance.numpy()]
        found[kind] = [outputs.numpy(), *(g.numpy() for g in gradients), *moving, layer(maps, training=False).numpy()]
        graph = tf.function(lambda x, layer=layer: layer(x, training=True)).get_concrete_function(maps).graph
        fused = any(op.type == "FusedBatchNormV3" for op in graph.get_operations())
        assert fused == (kind is FusedBatchNormalization), "the fused kernel trains the fused layer, and only it"
    for name, keras_own, fused in zip(
        (
            "outputs",
            "input gradient",
            "scale gradient",
            "offset gradient",
            "moving mean",
            "moving variance",
            "inference",
        ),
        *found.values(),
        strict=True,
    ):
        # float32 sums in another order: the error scales with the largest value (a scale gradient sums ~40,000 terms)
        tolerance = max(1e-4, 1e-5 * float(np.abs(keras_own).max()))
        assert np.allclose(fused, keras_own, rtol=1e-4, atol=tolerance), (name, np.abs(fused - keras_own).max())


def test_fused_batch_norm_is_saved_and_used_in_the_blocks_only(tmp_path: Path) -> None:
    assert not any(isinstance(layer, FusedBatchNormalization) for layer in build_cnn(47, fused_norm=False).layers)
    model = build_cnn(47)
    kinds = {layer.name: type(layer).__name__ for layer in model.layers if "bn" in layer.name}
    assert kinds == {
        "block1_bn1": "FusedBatchNormalization",
        "block2_bn1": "FusedBatchNormalization",
        "block3_bn1": "FusedBatchNormalization",
        "dense_bn": "BatchNormalization",  # 2-D: Keras' own
    }
    model.save(tmp_path / "fused.keras")
    images = np.random.default_rng(0).integers(0, 256, (4, 28, 28, 1)).astype("float32")
    reloaded = keras.saving.load_model(tmp_path / "fused.keras")
    assert isinstance(reloaded.get_layer("block1_bn1"), FusedBatchNormalization)
    assert np.allclose(reloaded.predict(images, verbose=0), model.predict(images, verbose=0), atol=1e-6)


def test_separable_blocks_cost_less_arithmetic_and_keep_the_first_block_whole() -> None:
    from arithmetic import multiply_adds

    full, separable = build_cnn(47, head="flatten"), build_cnn(47, head="flatten", separable=True)
    depthwise = [layer.name for layer in separable.layers if isinstance(layer, keras.layers.DepthwiseConv2D)]
    assert depthwise == ["block2_depthwise1", "block3_depthwise1"]  # block 1 sees one channel: nothing to separate
    assert separable.get_layer("block2_conv1").kernel.shape == (1, 1, 32, 64)
    assert separable.output.shape == full.output.shape
    assert multiply_adds(separable) < 0.35 * multiply_adds(full)


def test_recipes_cover_both_chapters_with_a_budget_in_images() -> None:
    mnist = RECIPES["mnist"]
    assert mnist.with_images(3000).images == 3000
    assert mnist.with_images(None) == mnist
    # the same budget buys fewer epochs of a bigger training set, and never less than one
    assert mnist.with_images(120_000).epochs_for(4_000) == 30
    assert mnist.with_images(120_000).epochs_for(60_000) == 2
    assert mnist.with_images(1_000).epochs_for(60_000) == 1
    wider = mnist.changed(batch_size=512, model={"dropout": 0.5})
    assert wider.model == {**mnist.model, "dropout": 0.5}
    assert wider.batch_size == 512
    assert "dropout" not in mnist.model
    assert mnist.batch_size == 64  # the original is untouched


def test_steps_per_second_leaves_the_first_step_out_and_times_the_others() -> None:
    calls = []

    def step() -> None:
        time.sleep(0.02 if calls else 0.5)  # the first call, like building a graph, is slow and not part of the rate
        calls.append(time.perf_counter())

    rate = steps_per_second(step, seconds=0.3)
    assert len(calls) >= 3
    assert 30 < rate < 50.5, f"{rate:.1f} steps/s for steps of 20 ms"


def test_training_time_here_turns_the_measured_speed_into_minutes_or_seconds() -> None:
    assert training_time_here(1_380_000, 920.0) == (
        "This machine trains this network at about 920 images/s: training 1,380,000 images takes about 25 min here."
    )
    assert training_time_here(40_000, 1_000.0).endswith("takes about 40 s here.")
    lines = training_time_here(200_000, 200.0, unit="lines")
    assert (
        lines
        == "This machine trains this network at about 200 lines/s: training 200,000 lines takes about 17 min here."
    )


def test_the_shipped_budget_curve_covers_the_emnist_recipe_on_a_download_and_rises_with_the_budget() -> None:
    curve = measured_budget_curve("emnist")
    assert len(curve.budgets) >= 3 and list(curve.budgets) == sorted(set(curve.budgets)) and curve.unit == "images"
    assert curve.scores[-1] > curve.scores[0] + 0.01, "a longer training should buy accuracy"
    recipe = RECIPES["emnist"]
    for share in (1 / 8, 1):  # notebook 06's BUDGET_SHARE, on the 112,800 images of a learner's download
        budget = recipe.with_images(round(share * recipe.images))
        seen = budget.epochs_for(112_800) * 112_800
        assert min(curve.scores) <= curve.score_at(seen) <= max(curve.scores)
    assert curve.score_at(curve.budgets[1]) == pytest.approx(curve.scores[1])
    with pytest.raises(ValueError, match="outside the measured curve"):
        curve.score_at(curve.budgets[0] - 1)


def test_the_shipped_line_reader_curve_covers_its_recipe_and_its_error_falls_with_the_budget() -> None:
    curve = measured_budget_curve("words")
    assert len(curve.budgets) >= 3 and list(curve.budgets) == sorted(set(curve.budgets)) and curve.unit == "lines"
    assert curve.scores[-1] < curve.scores[0] - 0.01, "a longer training should lower the CER"
    for share in (1 / 8, 1):  # notebook 14's BUDGET_SHARE
        assert min(curve.scores) <= curve.score_at(round(share * WORD_RECIPE.lines)) <= max(curve.scores)
    with pytest.raises(ValueError, match="lines is outside the measured curve"):
        curve.score_at(2 * WORD_RECIPE.lines)


def test_a_budget_curve_is_read_from_benchmark_lines_and_refuses_mixed_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(config, "MEASURED_DIR", tmp_path)
    with pytest.raises(FileNotFoundError, match="no measured budget curve"):
        measured_budget_curve("emnist")
    runs = [{"scored_on": "validation", "train_n": 1_000, "epochs": e, "accuracy": a} for e, a in ((4, 0.8), (1, 0.6))]
    (tmp_path / "emnist_budget.jsonl").write_text("\n".join(json.dumps(run) for run in runs) + "\n")
    curve = measured_budget_curve("emnist")
    assert curve.budgets == (1_000, 4_000) and curve.scores == (0.6, 0.8) and curve.train_images == 1_000
    assert curve.score_at(2_000) == pytest.approx(0.7)  # halfway in the logarithm of the budget
    runs.append({"scored_on": "test", "train_n": 1_000, "epochs": 2, "accuracy": 0.7})
    (tmp_path / "emnist_budget.jsonl").write_text("\n".join(json.dumps(run) for run in runs))
    with pytest.raises(ValueError, match="scored on the validation"):
        measured_budget_curve("emnist")
    lines = [
        {"scored_on": "random test lines", "train_n": 500, "lines": n, "cer": c} for n, c in ((800, 0.2), (200, 0.4))
    ]
    (tmp_path / "words_budget.jsonl").write_text("\n".join(json.dumps(run) for run in lines))
    curve = measured_budget_curve("words")
    assert curve.budgets == (200, 800) and curve.scores == (0.4, 0.2) and curve.score_at(400) == pytest.approx(0.3)


def test_the_budget_curve_figure_marks_the_chosen_budget() -> None:
    figure = plots.budget_curve([2.0, 4.0, 8.0], [0.85, 0.87, 0.88], 6.0, title="budget")
    ax = figure.axes[0]
    assert ax.get_title() == "budget" and "minutes" in ax.get_xlabel() and "accuracy" in ax.get_ylabel()
    assert list(ax.lines[0].get_ydata()) == pytest.approx([85.0, 87.0, 88.0])
    assert list(ax.lines[1].get_xdata()) == [6.0, 6.0]
    plt.close(figure)
    figure = plots.budget_curve([2.0, 4.0], [0.3, 0.2], 3.0, score_label="CER (%)", title="lines")
    assert figure.axes[0].get_ylabel() == "CER (%)"
    plt.close(figure)


def test_top_k_accuracy() -> None:
    probabilities = np.array([[0.5, 0.3, 0.2, 0.0], [0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1]])
    labels = np.array([0, 0, 3])
    assert top_k_accuracy(probabilities, labels, 1) == pytest.approx(1 / 3)
    assert top_k_accuracy(probabilities, labels, 3) == pytest.approx(1 / 3)  # label 0 is 4th in row 2
    assert top_k_accuracy(probabilities, labels, 4) == 1.0


def test_evaluation_measures() -> None:
    probabilities = keras.utils.to_categorical([0, 1, 1, 2, 2, 2], 3) * 0.8 + 0.2 / 3
    labels = np.array([0, 0, 1, 2, 2, 1])  # two errors: 0 read as 1, 1 read as 2
    evaluation = Evaluation(probabilities, labels, ("O", "0", "Q"), seconds=0.5)
    assert evaluation.accuracy == pytest.approx(4 / 6)
    assert evaluation.confusion().tolist() == [[1, 1, 0], [0, 1, 1], [0, 0, 2]]
    assert sorted(evaluation.most_confused(5)) == [("0", "Q", 1), ("O", "0", 1)]
    assert evaluation.per_class()["recall"].tolist() == [0.5, 0.5, 1.0]
    assert set(evaluation.mistakes()) == {1, 5}
    assert evaluation.summary("emnist") == {
        "dataset": "emnist",
        "accuracy": 0.6667,
        "n": 6,
        "seconds": 0.5,
        "top3": 1.0,
    }
    assert "top3" not in evaluation.summary("mnist")


def test_validation_split_is_stratified_and_disjoint(sample_dir: Path) -> None:
    data = load_emnist("balanced", sample_dir / "emnist")
    split = data.with_validation(0.2)
    assert len(split.y_val) == round(0.2 * len(data.y_train))
    assert len(split.y_train) + len(split.y_val) == len(data.y_train)
    assert np.array_equal(np.bincount(split.y_val, minlength=47), np.full(47, 10))  # 20% of 50 per class
    together = np.concatenate([split.x_train, split.x_val]).reshape(len(data.y_train), -1)
    assert len(np.unique(together, axis=0)) == len(np.unique(data.x_train.reshape(len(data.y_train), -1), axis=0))
    assert np.array_equal(split.x_test, data.x_test)  # the test set is untouched
    with pytest.raises(ValueError, match="already has a validation set"):
        split.with_validation(0.1)
    small = split.subset(470)
    assert np.array_equal(np.bincount(small.y_train, minlength=47), np.full(47, 10))
    assert small.x_val is split.x_val
    assert split.subset(10**6) is split


@pytest.mark.slow
def test_compare_recipes_scores_the_averaged_weights_after_fit(sample_dir: Path) -> None:
    data = load_mnist(sample_dir / "mnist").subset(600).with_validation(200)
    recipe = Recipe(model={"dense_units": 16, "augment": False}, images=8000, weight_averaging=True)
    result = compare_recipes(data, {"averaged": recipe})["averaged"]
    predicted = result.model.predict(data.x_val[..., None], verbose=0).argmax(axis=1)
    assert result.accuracy == pytest.approx(np.mean(predicted == data.y_val))
    assert result.accuracy > 0.6


@pytest.mark.slow
def test_fit_spends_the_budget_in_whole_epochs_with_class_weights(sample_dir: Path) -> None:
    data = load_emnist("balanced", sample_dir / "emnist")
    model = build_cnn(47, filters=(8, 16), dense_units=16, augment=False)
    recipe = Recipe(images=2 * len(data.y_train), batch_size=64, balance_classes=True)
    history = fit(model, data.x_train, data.y_train, recipe, verbose=0)
    assert len(history.history["loss"]) == 2
    assert np.isfinite(history.history["loss"]).all()
    assert int(model.optimizer.iterations) == 2 * int(np.ceil(len(data.y_train) / 64))


@pytest.mark.slow
def test_train_recipe_repeats_with_its_seed_and_changes_with_another(sample_dir: Path) -> None:
    data = load_emnist("balanced", sample_dir / "emnist")
    recipe = Recipe(model={"filters": (8, 16), "dense_units": 16, "augment": False}, images=len(data.y_train))
    first = [
        train_recipe(data, recipe, seed=seed, verbose=0)[0].get_layer("dense").get_weights()[0] for seed in (1, 1, 2)
    ]
    assert np.array_equal(first[0], first[1]), "the same seed must give the same training"
    assert not np.allclose(first[0], first[2]), "another seed must give another training"
