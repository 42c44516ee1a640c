"""Figures of the curriculum. Every function returns a titled Figure with labelled axes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .evaluation import Evaluation


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


def examples_per_class(images: np.ndarray, labels: np.ndarray, classes: Sequence[str], per_class: int = 8,
                       title: str = "Examples of every class") -> Figure:
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


def mean_images(images: np.ndarray, labels: np.ndarray, classes: Sequence[str],
                title: str = "Mean image of each class") -> Figure:
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
    """Training (dashed) and test (solid) accuracy and loss per epoch, one colour per run."""
    fig, (acc_ax, loss_ax) = plt.subplots(1, 2, figsize=(11, 3.8))
    for i, (name, history) in enumerate(histories.items()):
        colour = f"C{i}"
        epochs = np.arange(1, len(history["loss"]) + 1)
        for ax, metric in ((acc_ax, "accuracy"), (loss_ax, "loss")):
            ax.plot(epochs, history[metric], "--", color=colour, label=f"{name} (train)")
            if f"val_{metric}" in history:
                ax.plot(epochs, history[f"val_{metric}"], "-", color=colour, label=f"{name} (test)")
    acc_ax.set(xlabel="epoch", ylabel="accuracy", title="Accuracy")
    loss_ax.set(xlabel="epoch", ylabel="loss", title="Loss")
    acc_ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def confusion_matrix(evaluation: Evaluation, title: str = "Confusion matrix", normalise: bool = True) -> Figure:
    """Rows: true class, columns: predicted class. Normalised per row; the diagonal is hidden so errors stand out."""
    counts = evaluation.confusion().astype(float)
    if normalise:
        counts = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    errors = counts.copy()
    np.fill_diagonal(errors, np.nan)
    n = len(evaluation.classes)
    fig, ax = plt.subplots(figsize=(max(5, n * 0.24 + 2), max(4, n * 0.24 + 1)))
    shown = ax.imshow(errors, cmap="Reds")
    fig.colorbar(shown, ax=ax, label="share of the true class" if normalise else "count")
    ax.set_xticks(range(n), evaluation.classes, fontsize=7 if n > 20 else 10)
    ax.set_yticks(range(n), evaluation.classes, fontsize=7 if n > 20 else 10)
    if n <= 20:
        for r, c in np.ndindex(n, n):
            if counts[r, c] and r != c:
                ax.text(c, r, f"{counts[r, c]:.0%}" if normalise else int(counts[r, c]), ha="center", va="center",
                        fontsize=7)
    ax.set(xlabel="predicted class", ylabel="true class", title=f"{title} (accuracy {evaluation.accuracy:.2%})")
    fig.tight_layout()
    return fig


def mistakes(images: np.ndarray, evaluation: Evaluation, count: int = 20, ncols: int = 10,
             title: str = "Most confident mistakes") -> Figure:
    """Wrongly classified images, captioned 'true → predicted (confidence)'."""
    wrong = evaluation.mistakes()[:count]
    classes = evaluation.classes
    captions = [f"{classes[evaluation.labels[i]]}→{classes[evaluation.predictions[i]]} "
                f"({evaluation.confidence[i]:.0%})" for i in wrong]
    return image_grid(images[wrong], captions, ncols=ncols, title=f"{title}: true → predicted (confidence)")


def per_class_bars(values: np.ndarray, classes: Sequence[str], *, ylabel: str = "accuracy",
                   title: str = "Accuracy per class") -> Figure:
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


def compare_runs(results: Mapping[str, float], *, xlabel: str = "test accuracy",
                 title: str = "What each change gave") -> Figure:
    """Horizontal bars, one per experiment, value printed at the end of each bar."""
    names, values = list(results), np.array(list(results.values()))
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(names) + 1.2))
    ax.barh(names, values, color="tab:green")
    for y, value in enumerate(values):
        ax.text(value, y, f" {value:.2%}", va="center", fontsize=9)
    ax.set_xlim(max(0.0, values.min() - 0.05), min(1.0, values.max() + 0.03))
    ax.invert_yaxis()
    ax.set(xlabel=xlabel, ylabel="experiment", title=title)
    fig.tight_layout()
    return fig


def confused_pair_examples(images: np.ndarray, evaluation: Evaluation, pairs: int = 8, per_pair: int = 6,
                           title: str = "Most confused pairs") -> Figure:
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
