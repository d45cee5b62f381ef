"""Helpers the tests share: generated digits and numbers, folder snapshots, the CLI runner, data paths."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Optional

import numpy as np
from PIL import Image
from typer.testing import CliRunner

from khmerdigit.cli import app
from khmerdigit.data.strokes import render_digit, styles
from khmerdigit.reading.segment import Box

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
REAL_DATA = SHARED_DATA / "khmer-digits-real"
MULTIWRITER = SHARED_DATA / "khmer-digits-multiwriter"


def digit_image(label: int, seed: int = 0, size: int = 48, style: Optional[str] = None) -> Image.Image:
    """A generated handwritten-style digit, dark ink on white, in the digit's classic style unless `style`
    names another (`khmerdigit.data.strokes.styles`): tests of reading need digits every model knows."""
    return render_digit(label, np.random.default_rng([label, seed]), size, style or styles(label)[0])


def make_class_folders(root: Path, per_class: int = 6, labels=range(10), seed: int = 0) -> Path:
    """root/<label>/img_<n>.png with generated digits."""
    for label in labels:
        (root / str(label)).mkdir(parents=True, exist_ok=True)
        for n in range(per_class):
            digit_image(label, seed * 1000 + n).save(root / str(label) / f"img_{n}.png")
    return root


def tree_hashes(root: Path) -> dict[str, str]:
    """sha256 of every file under root, by relative path."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


MARGIN = 12


def digit_ink(label: int, seed: int, size: int = 48) -> np.ndarray:
    """A generated digit as an ink map (1 = ink), cropped to its ink."""
    ink = 1.0 - np.asarray(digit_image(label, seed, size), np.float32) / 255.0
    rows, cols = np.nonzero(ink > 0.25)
    return ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]


def touching_offset(left: np.ndarray, right: np.ndarray) -> int:
    """How far right of `left`'s left edge `right` goes so that their ink just touches (same top)."""
    rows = [r for r in range(min(len(left), len(right))) if (left[r] > 0.25).any() and (right[r] > 0.25).any()]
    return max(np.flatnonzero(left[r] > 0.25).max() - np.flatnonzero(right[r] > 0.25).min() for r in rows)


def compose(labels: list[int], gaps: list[int], seed: int = 0,
            widths: Optional[dict[int, float]] = None) -> tuple[np.ndarray, list[Box]]:
    """Dark-on-white image of the digits side by side, with these gaps (None: touching), and their true boxes;
    `widths` stretches the digit at an index to that many times its height wide."""
    inks = [digit_ink(label, seed) for label in labels]
    for index, width in (widths or {}).items():
        ink = Image.fromarray(inks[index])
        inks[index] = np.asarray(ink.resize((round(width * ink.height), ink.height), Image.BILINEAR))
    canvas = np.zeros((max(i.shape[0] for i in inks) + 2 * MARGIN, sum(i.shape[1] + 40 for i in inks)), np.float32)
    boxes, left = [], MARGIN
    for index, ink in enumerate(inks):
        if index:
            previous = inks[index - 1]
            gap = gaps[index - 1]
            left = boxes[-1].left + (touching_offset(previous, ink) if gap is None else previous.shape[1] + gap)
        window = canvas[MARGIN : MARGIN + ink.shape[0], left : left + ink.shape[1]]
        np.maximum(window, ink, out=window)
        rows, cols = np.nonzero(ink > 0.4)
        boxes.append(Box(left + cols.min(), MARGIN + rows.min(), left + cols.max() + 1, MARGIN + rows.max() + 1))
    return 1.0 - canvas[:, : boxes[-1].right + MARGIN], boxes


def assert_boxes(found: list[Box], expected: list[Box], tolerance: int = 2) -> None:
    assert len(found) == len(expected), (found, expected)
    for a, b in zip(found, expected):
        distance = max(abs(a.left - b.left), abs(a.top - b.top), abs(a.right - b.right), abs(a.bottom - b.bottom))
        assert distance <= tolerance, (a, b)


runner = CliRunner()


def run(*args):
    """Invoke the CLI in-process; stdout and stderr are captured separately."""
    return runner.invoke(app, [str(a) for a in args])
