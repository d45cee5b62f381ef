"""Figures saved as PNG: confusion matrix, misclassified gallery, training curves."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from khmerdigit.fileio import atomic_path  # noqa: E402


def save_figure(figure, path: Path) -> None:
    with atomic_path(Path(path)) as tmp:
        figure.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    plt.close(figure)


def confusion_matrix_png(matrix: np.ndarray, path: Path, title: str = "Confusion matrix") -> None:
    """Rows: true digit, columns: predicted digit, cells: counts."""
    figure, axes = plt.subplots(figsize=(6, 5.4))
    axes.imshow(matrix, cmap="Blues")
    for (row, col), count in np.ndenumerate(matrix):
        if count:
            colour = "white" if count > matrix.max() / 2 else "black"
            axes.text(col, row, str(count), ha="center", va="center", color=colour, fontsize=8)
    ticks = range(matrix.shape[0])
    axes.set(xticks=ticks, yticks=ticks, xlabel="predicted", ylabel="true", title=title)
    save_figure(figure, path)


def gallery_png(images: list[np.ndarray], captions: list[str], path: Path, columns: int = 8) -> None:
    """A grid of model-input images with captions (the misclassified examples)."""
    rows = max(1, -(-len(images) // columns))
    figure, grid = plt.subplots(rows, columns, figsize=(columns * 1.3, rows * 1.5), squeeze=False)
    for axes in grid.flat:
        axes.axis("off")
    for axes, image, caption in zip(grid.flat, images, captions):
        axes.imshow(image[..., 0], cmap="gray", vmin=0, vmax=1)
        axes.set_title(caption, fontsize=7)
    if not images:
        grid[0, 0].set_title("no misclassified images")
    save_figure(figure, path)


def curves_png(histories: dict[str, list[dict]], path: Path) -> None:
    """Loss and accuracy per epoch, train and validation, one colour per run."""
    figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(11, 4))
    for index, (name, history) in enumerate(histories.items()):
        colour = f"C{index}"
        epochs = [row["epoch"] for row in history]
        for axes, key in ((loss_axes, "loss"), (accuracy_axes, "accuracy")):
            axes.plot(epochs, [row.get(key) for row in history], colour, linestyle="--", label=f"{name} train")
            axes.plot(epochs, [row.get(f"val_{key}") for row in history], colour, label=f"{name} valid")
    for axes, key in ((loss_axes, "loss"), (accuracy_axes, "accuracy")):
        axes.set(xlabel="epoch", ylabel=key)
        axes.grid(alpha=0.3)
        axes.legend(fontsize=7)
    save_figure(figure, path)
