"""Figures saved as PNG: confusion matrix, misclassified gallery, training curves.

Every figure has a title saying what it shows (model, data, split); digit labels show the Khmer
glyph next to the Arabic digit, drawn with the bundled Noto Sans Khmer font.
"""

from __future__ import annotations

import textwrap
from functools import lru_cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from khmerdigit import KHMER_GLYPHS  # noqa: E402
from khmerdigit.fileio import atomic_path  # noqa: E402
from khmerdigit.fonts import bundled_font  # noqa: E402

FALLBACK_FONT = "DejaVu Sans"  # matplotlib's own; has the arrows and symbols Noto Sans Khmer lacks


@lru_cache(maxsize=1)
def khmer_font_family() -> str | None:
    """Register the bundled Noto Sans Khmer with matplotlib once; its family name, or None if not installed."""
    path = bundled_font()
    if path is None:
        return None
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


def style() -> dict:
    """rcParams for every figure: the Khmer font first, then matplotlib's for whatever it lacks."""
    family = khmer_font_family()
    return {"font.family": ([family] if family else []) + [FALLBACK_FONT], "axes.titlesize": 11}


def digit_label(label: int, separator: str = " ") -> str:
    """'៣ 3': the glyph and the digit."""
    return f"{KHMER_GLYPHS[label]}{separator}{label}"


def wrap(text: str, width: int = 60) -> str:
    """Break a title into lines at spaces (never inside a path or a hyphenated name)."""
    return "\n".join(textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)) or text


def save_figure(figure, path: Path) -> None:
    with atomic_path(Path(path)) as tmp:
        figure.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    plt.close(figure)


def confusion_matrix_png(matrix: np.ndarray, path: Path, title: str = "Confusion matrix", subtitle: str = "") -> None:
    """Rows: true digit, columns: predicted digit, cells: counts, with a colour bar."""
    matrix = np.asarray(matrix)
    with plt.rc_context(style()):
        figure, axes = plt.subplots(figsize=(6.6, 5.8))
        image = axes.imshow(matrix, cmap="Blues", vmin=0)
        for (row, col), count in np.ndenumerate(matrix):
            if count:
                colour = "white" if count > matrix.max() / 2 else "black"
                axes.text(col, row, str(count), ha="center", va="center", color=colour, fontsize=8)
        ticks = range(matrix.shape[0])
        axes.set_xticks(ticks, [digit_label(i, "\n") for i in ticks])
        axes.set_yticks(ticks, [digit_label(i) for i in ticks])
        axes.set(xlabel="predicted digit", ylabel="true digit")
        axes.set_title(wrap(title) + (f"\n{subtitle}" if subtitle else ""))
        figure.colorbar(image, ax=axes, shrink=0.82, label="images")
        save_figure(figure, path)


def gallery_png(images: list[np.ndarray], captions: list[str], path: Path, title: str = "Misclassified images",
                empty_message: str = "No misclassified images.", columns: int = 8) -> None:
    """A grid of model-input images with captions (the misclassified examples); a clear message when empty."""
    with plt.rc_context(style()):
        if not images:
            figure = plt.figure(figsize=(6.5, 1.4))
            figure.text(0.5, 0.72, wrap(title, 80), ha="center", va="center", fontsize=11)
            figure.text(0.5, 0.28, empty_message, ha="center", va="center", fontsize=14, color="#1a7f37")
            save_figure(figure, path)
            return
        rows = -(-len(images) // columns)
        height = rows * 1.75 + 0.5
        figure, grid = plt.subplots(rows, columns, figsize=(columns * 1.35, height), squeeze=False)
        figure.subplots_adjust(top=1 - 0.95 / height, hspace=0.6)  # room for the title above the captions
        for axes in grid.flat:
            axes.axis("off")
        for axes, image, caption in zip(grid.flat, images, captions):
            axes.imshow(image[..., 0], cmap="gray", vmin=0, vmax=1)
            axes.set_title(caption, fontsize=7, linespacing=1.25)
        figure.suptitle(wrap(title, 110), fontsize=11)
        save_figure(figure, path)


def curves_png(histories: dict[str, list[dict]], path: Path, title: str = "Training curves") -> None:
    """Loss and accuracy per epoch, train (dashed) and validation (solid), one colour per run; legend outside."""
    with plt.rc_context(style()):
        figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(11, 4))
        handles = []
        for index, (name, history) in enumerate(histories.items()):
            colour = f"C{index % 10}"
            epochs = [row["epoch"] for row in history]
            for axes, key in ((loss_axes, "loss"), (accuracy_axes, "accuracy")):
                axes.plot(epochs, [row.get(key, np.nan) for row in history], color=colour, linestyle="--", alpha=0.8)
                axes.plot(epochs, [row.get(f"val_{key}", np.nan) for row in history], color=colour)
            handles.append(Line2D([], [], color=colour, label=name))
        handles += [Line2D([], [], color="grey", linestyle="--", label="train"),
                    Line2D([], [], color="grey", label="validation")]
        for axes, key in ((loss_axes, "loss"), (accuracy_axes, "accuracy")):
            axes.set(xlabel="epoch", ylabel=key, title=key)
            axes.grid(alpha=0.3)
        figure.suptitle(wrap(title, 110))
        figure.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8, frameon=False)
        figure.tight_layout()
        save_figure(figure, path)
