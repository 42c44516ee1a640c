"""Figures of the curriculum. Every function returns a titled Figure with labelled axes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from .evaluation import Evaluation, standard_error


def image_grid(
    images: np.ndarray, captions: Sequence[str] | None = None, *, ncols: int = 10, title: str = "", size: float = 1.1
) -> Figure:
    """Images in a grid, each with an optional caption above it."""
    nrows = max(1, int(np.ceil(len(images) / ncols)))
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * size, nrows * (size + 0.25)), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i], cmap="gray", vmin=0, vmax=255)
            if captions is not None:
                ax.set_title(captions[i], fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def examples_per_class(
    images: np.ndarray,
    labels: np.ndarray,
    classes: Sequence[str],
    per_class: int = 8,
    title: str = "Examples of every class",
) -> Figure:
    """One row per class (first ``per_class`` examples), the character at the start of the row."""
    picks = [np.flatnonzero(labels == c)[:per_class] for c in range(len(classes))]
    grid = np.stack([images[p] if len(p) == per_class else np.zeros((per_class, 28, 28), np.uint8) for p in picks])
    rows, size = len(classes), 0.55
    fig, axes = plt.subplots(rows, per_class, figsize=(per_class * size, rows * size), squeeze=False)
    for r, c in np.ndindex(rows, per_class):
        axes[r, c].imshow(grid[r, c], cmap="gray", vmin=0, vmax=255)
        axes[r, c].set_xticks([])
        axes[r, c].set_yticks([])
        if c == 0:
            axes[r, c].set_ylabel(classes[r], rotation=0, labelpad=10, fontsize=9, va="center")
    fig.suptitle(title)
    fig.tight_layout(pad=0.3)
    return fig


def class_counts(labels: np.ndarray, classes: Sequence[str], title: str = "Images per class") -> Figure:
    """Bar chart of how many examples each class has, with the mean marked."""
    counts = np.bincount(labels, minlength=len(classes))
    fig, ax = plt.subplots(figsize=(max(6, len(classes) * 0.22), 3))
    ax.bar(range(len(classes)), counts, color="tab:blue")
    ax.axhline(counts.mean(), color="tab:red", linestyle="--", label=f"mean {counts.mean():.0f}")
    ax.set_xticks(range(len(classes)), classes)
    ax.set(xlabel="class", ylabel="number of images", title=title)
    ax.legend()
    fig.tight_layout()
    return fig


def mean_images(
    images: np.ndarray, labels: np.ndarray, classes: Sequence[str], title: str = "Mean image of each class"
) -> Figure:
    """The average of every class's images: what a 'typical' example looks like."""
    means = np.stack([images[labels == c].mean(axis=0) for c in range(len(classes))])
    return image_grid(means, list(classes), ncols=min(len(classes), 12), title=title)


def pixel_histogram(images: np.ndarray, title: str = "Pixel intensities") -> Figure:
    """Histogram of grey levels (log scale: most pixels are background)."""
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.hist(images.ravel(), bins=64, color="tab:gray", log=True)
    ax.set(xlabel="grey level (0 = black background, 255 = full ink)", ylabel="number of pixels (log)", title=title)
    fig.tight_layout()
    return fig


def learning_curves(histories: Mapping[str, Mapping[str, list[float]]], title: str = "Learning curves") -> Figure:
    """Training (dashed) and validation (solid) accuracy and loss per epoch, one colour per run."""
    fig, (acc_ax, loss_ax) = plt.subplots(1, 2, figsize=(11, 3.8))
    for i, (name, history) in enumerate(histories.items()):
        colour = f"C{i}"
        epochs = np.arange(1, len(history["loss"]) + 1)
        for ax, metric in ((acc_ax, "accuracy"), (loss_ax, "loss")):
            ax.plot(epochs, history[metric], "--", color=colour, label=f"{name} (train)")
            if f"val_{metric}" in history:
                ax.plot(epochs, history[f"val_{metric}"], "-", color=colour, label=f"{name} (validation)")
    acc_ax.set(xlabel="epoch", ylabel="accuracy", title="Accuracy")
    loss_ax.set(xlabel="epoch", ylabel="loss", title="Loss")
    acc_ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def confusion_matrix(evaluation: Evaluation, title: str = "Confusion matrix") -> Figure:
    """Rows: true class, columns: predicted class, every cell's count written in it.

    The colour scale is logarithmic, so that a single error stands out as
    clearly as a hundred correct answers; empty cells stay white.
    """
    counts = evaluation.confusion()
    n = len(evaluation.classes)
    side = min(12.0, max(4.5, 0.26 * n + 1.5))
    fig, ax = plt.subplots(figsize=(side + 1.2, side))
    shown = ax.imshow(
        np.where(counts > 0, counts, np.nan), cmap="Blues", norm=LogNorm(vmin=1, vmax=max(counts.max(), 2))
    )
    fig.colorbar(shown, ax=ax, label="number of test images (log scale)", fraction=0.04)
    labels = list(evaluation.classes)
    ax.set_xticks(range(n), labels, fontsize=8 if n > 20 else 10)
    ax.set_yticks(range(n), labels, fontsize=8 if n > 20 else 10)
    ax.tick_params(top=True, labeltop=True)
    ax.set_xticks(np.arange(-0.5, n), minor=True)
    ax.set_yticks(np.arange(-0.5, n), minor=True)
    ax.grid(which="minor", color="#eeeeee", linewidth=0.5)
    ax.tick_params(which="minor", length=0)
    dark = counts.max() ** 0.6 if counts.max() else 1  # above this, write in white on the dark cells
    for r, c in zip(*np.nonzero(counts)):
        ax.text(
            c,
            r,
            str(counts[r, c]),
            ha="center",
            va="center",
            fontsize=5.5 if n > 20 else 9,
            color="white" if counts[r, c] > dark else "black",
        )
    ax.set(xlabel="predicted class", ylabel="true class", title=f"{title} (accuracy {evaluation.accuracy:.2%})")
    fig.tight_layout()
    return fig


def mistakes(
    images: np.ndarray, evaluation: Evaluation, count: int = 20, ncols: int = 10, title: str = "Most confident mistakes"
) -> Figure:
    """Wrongly classified images, captioned 'true → predicted (confidence)'."""
    wrong = evaluation.mistakes()[:count]
    classes = evaluation.classes
    captions = [
        f"{classes[evaluation.labels[i]]}→{classes[evaluation.predictions[i]]} ({evaluation.confidence[i]:.0%})"
        for i in wrong
    ]
    return image_grid(images[wrong], captions, ncols=ncols, title=f"{title}: true → predicted (confidence)")


def per_class_bars(
    values: np.ndarray, classes: Sequence[str], *, ylabel: str = "accuracy", title: str = "Accuracy per class"
) -> Figure:
    """One bar per class, worst classes in red, with the mean marked."""
    fig, ax = plt.subplots(figsize=(max(6, len(classes) * 0.22), 3))
    worst = set(np.argsort(values)[: max(1, len(values) // 10)])
    ax.bar(range(len(classes)), values, color=["tab:red" if i in worst else "tab:blue" for i in range(len(classes))])
    ax.axhline(np.mean(values), color="black", linestyle="--", label=f"mean {np.mean(values):.2%}")
    ax.set_xticks(range(len(classes)), classes)
    ax.set_ylim(max(0.0, float(np.min(values)) - 0.1), 1.0)
    ax.set(xlabel="class", ylabel=ylabel, title=title)
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def compare_runs(accuracies: Mapping[str, float], scored: int, *, title: str = "What each change gave") -> Figure:
    """Error rate of each experiment as a bar from zero, with ± one standard error of the measurement.

    ``scored`` is how many images each accuracy was measured on: the error bar
    (binomial standard error) shows which differences the measurement can tell
    apart, and the axis starts at zero, so no difference looks bigger than it is.
    """
    names, errors = list(accuracies), 1.0 - np.array(list(accuracies.values()))
    spread = np.array([standard_error(error, scored) for error in errors])
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(names) + 1.4))
    ax.barh(names, errors, xerr=spread, color="tab:orange", ecolor="black", capsize=3)
    for y, (error, sd) in enumerate(zip(errors, spread)):
        ax.text(error + sd, y, f"  {error:.2%}", va="center", fontsize=9)
    ax.set_xlim(0, (errors + spread).max() * 1.25)
    ax.invert_yaxis()
    ax.set(
        xlabel=f"error rate on {scored:,} validation images (lower is better; bars: ± 1 standard error)",
        ylabel="experiment",
        title=title,
    )
    fig.tight_layout()
    return fig


def budget_curve(
    minutes: Sequence[float],
    scores: Sequence[float],
    chosen_minutes: float,
    *,
    score_label: str = "validation accuracy (%)",
    title: str = "What a longer training buys",
) -> Figure:
    """A score (a fraction, drawn in %) against training minutes, one point per measured run, with the chosen budget marked."""
    fig, ax = plt.subplots(figsize=(6.5, 4))
    ax.plot(minutes, 100 * np.asarray(scores), "o-", color="tab:blue", label="measured runs")
    ax.axvline(chosen_minutes, color="tab:orange", linestyle="--", label=f"your budget: {chosen_minutes:.0f} min")
    ax.set_xlim(left=0)
    ax.set(xlabel="training time on this machine (minutes)", ylabel=score_label, title=title)
    ax.legend(loc="best")
    fig.tight_layout()
    return fig


def learning_rate(schedule, steps: int, *, title: str = "Learning-rate schedule") -> Figure:
    """The learning rate at every training step (a Keras schedule or a constant)."""
    points = np.linspace(0, steps, min(steps, 400) + 1).astype(int)
    rates = [float(schedule(step)) if callable(schedule) else float(schedule) for step in points]
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.plot(points, rates, color="tab:purple")
    ax.set(xlabel="training step (one batch)", ylabel="learning rate", title=title)
    ax.set_ylim(bottom=0)
    fig.tight_layout()
    return fig


def conv_filters(kernels: np.ndarray, *, title: str = "First-layer filters") -> Figure:
    """Each 3×3 kernel of a one-channel convolution (weights of shape 3×3×1×F), red negative, blue positive."""
    count = kernels.shape[-1]
    ncols = min(count, 16)
    nrows = int(np.ceil(count / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * 0.7, nrows * 0.75 + 0.5), squeeze=False)
    limit = float(np.abs(kernels).max())
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < count:
            ax.imshow(kernels[:, :, 0, i], cmap="RdBu", vmin=-limit, vmax=limit)
            ax.set_title(str(i), fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def feature_maps(image: np.ndarray, maps: np.ndarray, *, title: str = "Feature maps") -> Figure:
    """One input image, then its feature maps (H×W×F, one panel each, bright = strong response)."""
    count = maps.shape[-1]
    ncols = min(count + 1, 9)
    nrows = int(np.ceil((count + 1) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * 1.1, nrows * 1.25 + 0.4), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    axes.flat[0].imshow(image, cmap="gray", vmin=0, vmax=255)
    axes.flat[0].set_title("input", fontsize=8)
    for i in range(count):
        axes.flat[i + 1].imshow(maps[..., i], cmap="magma")
        axes.flat[i + 1].set_title(f"map {i}", fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def heatmaps(
    images: Sequence[np.ndarray],
    maps: Sequence[np.ndarray],
    captions: Sequence[str],
    *,
    title: str = "Where the network looked",
) -> Figure:
    """Each image with a heat map laid over it (e.g. Grad-CAM), captioned."""
    fig, axes = plt.subplots(1, len(images), figsize=(2.6 * len(images), 3.0), squeeze=False)
    for ax, image, heat, caption in zip(axes[0], images, maps, captions):
        ax.imshow(image, cmap="gray", vmin=0, vmax=255)
        ax.imshow(heat, cmap="jet", alpha=0.45, vmin=0, vmax=1)
        ax.set(title=caption, xlabel="x (pixels)", ylabel="y (pixels)")
        ax.title.set_fontsize(9)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def confused_pair_examples(
    images: np.ndarray, evaluation: Evaluation, pairs: int = 8, per_pair: int = 6, title: str = "Most confused pairs"
) -> Figure:
    """One row per confused pair (true → predicted, count), showing some of its misread images."""
    rows = evaluation.most_confused(pairs)
    index = {char: i for i, char in enumerate(evaluation.classes)}
    fig, axes = plt.subplots(len(rows), per_pair, figsize=(per_pair * 0.9, len(rows) * 0.95), squeeze=False)
    for r, (true, predicted, count) in enumerate(rows):
        hits = np.flatnonzero((evaluation.labels == index[true]) & (evaluation.predictions == index[predicted]))
        for c, ax in enumerate(axes[r]):
            ax.set_xticks([])
            ax.set_yticks([])
            if c < len(hits):
                ax.imshow(images[hits[c]], cmap="gray", vmin=0, vmax=255)
            else:
                ax.axis("off")
        axes[r, 0].set_ylabel(f"{true}→{predicted}\n({count})", rotation=0, labelpad=22, fontsize=9, va="center")
    fig.suptitle(f"{title}: true → predicted (number of test images)")
    fig.tight_layout(pad=0.3)
    return fig
