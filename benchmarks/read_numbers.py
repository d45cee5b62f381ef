"""Reading-whole-numbers benchmark: exact-number and per-digit accuracy of `read_number`.

    python benchmarks/read_numbers.py [--real ../shared/data/khmer-digits-real] [--numbers 200]
                                      [--model FILE] [--workdir build/read-bench] [--seed 0]

Composes seeded images of 2-10 digit numbers from held-out real digits (the test split of
`prepare(REAL, seed=0)`, which the bundled model never trained on) and from freshly drawn
pen-stroke digits, with uneven spacing, slant, size and baseline jitter, broken strokes, ruling
lines, specks, noise, uneven paper and either polarity. "touching" numbers have every pair of
neighbouring digits overlapping by a pixel or more; "clean" numbers have gaps between digits.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from khmerdigit import percent
from khmerdigit.augment import affine, on_paper
from khmerdigit.console import out, simple_table, track
from khmerdigit.dataset import labelled_files, prepare
from khmerdigit.predictor import load_classifier
from khmerdigit.preprocess import INK_THRESHOLD, as_gray, ink_map, remove_specks
from khmerdigit.reading import read_number
from khmerdigit.strokes import render_digit


def ink_box(ink: np.ndarray) -> np.ndarray:
    """Crop an ink map to its ink."""
    rows, cols = np.nonzero(ink > INK_THRESHOLD)
    return ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]


def break_stroke(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Erase a short piece of one stroke, like a pen lifted mid-stroke."""
    mask = ink > 0.5
    depth = ndimage.distance_transform_edt(mask)
    rows, cols = np.nonzero(mask)
    pick = rng.integers(rows.size)
    radius = 1.5 * depth[max(0, rows[pick] - 3) : rows[pick] + 4, max(0, cols[pick] - 3) : cols[pick] + 4].max() + 1
    yy, xx = np.indices(ink.shape)
    return np.where((yy - rows[pick]) ** 2 + (xx - cols[pick]) ** 2 <= radius**2, 0.0, ink)


def digit_ink(ink: np.ndarray, height: float, slant: float, rng: np.random.Generator) -> np.ndarray:
    """One digit's ink, scaled to `height`, slanted, sometimes with a broken stroke."""
    ink = ink_box(remove_specks(ink))
    scale = height / ink.shape[0]
    size = (max(2, round(ink.shape[1] * scale)), max(2, round(height)))
    ink = np.asarray(Image.fromarray(ink.astype(np.float32), "F").resize(size, Image.Resampling.BILINEAR))
    pad = int(abs(slant) * height) + 2
    ink = ink_box(np.clip(affine(np.pad(ink, pad), shear=slant), 0, 1))
    return ink_box(break_stroke(ink, rng)) if rng.random() < 0.3 else ink


def place(canvas: np.ndarray, ink: np.ndarray, top: int, touching: bool, gap: int, rng: np.random.Generator) -> None:
    """Paste `ink` right of what is on `canvas` (from column `gap` on an empty one), touching it or `gap` pixels away."""
    layer = np.zeros_like(canvas)
    layer[top : top + ink.shape[0], : ink.shape[1]] = ink
    drawn, new = canvas > INK_THRESHOLD, layer > INK_THRESHOLD
    right = np.where(drawn.any(axis=1), canvas.shape[1] - 1 - np.argmax(drawn[:, ::-1], axis=1), -1)
    rows = drawn.any(axis=1) & new.any(axis=1)
    if touching and rows.any():  # overlap by one or two pixels where the two come closest
        left = int(np.max(right[rows] - np.argmax(new[rows], axis=1))) - int(rng.integers(0, 2))
    else:
        left = int(right.max()) + 1 + gap - int(np.argmax(new.any(axis=0)))
    window = (slice(top, top + ink.shape[0]), slice(left, left + ink.shape[1]))
    canvas[window] = np.maximum(canvas[window], ink)


def rule_lines(canvas: np.ndarray, top: int, height: int, rng: np.random.Generator) -> None:
    """Draw one to three long, thin, slightly tilted lines across the canvas, near or through the digits."""
    cols = np.arange(canvas.shape[1])
    for _ in range(int(rng.integers(1, 4))):
        row = top + height * rng.choice([rng.uniform(0.9, 1.15), rng.uniform(-0.3, 0.0), rng.uniform(0.2, 0.8)])
        tilt = np.tan(np.deg2rad(rng.uniform(-1, 1)))
        thickness, level = int(rng.integers(1, 4)), rng.uniform(0.4, 1.0)
        centre = row + (cols - cols.mean()) * tilt
        for offset in range(thickness):
            rows = np.round(centre + offset).astype(int)
            inside = (rows >= 0) & (rows < canvas.shape[0])
            canvas[rows[inside], cols[inside]] = np.maximum(canvas[rows[inside], cols[inside]], level)


def add_specks(canvas: np.ndarray, rng: np.random.Generator) -> None:
    """Dots of dirt anywhere on the page."""
    yy, xx = np.indices(canvas.shape)
    for _ in range(int(rng.integers(1, 7))):
        row, col, radius = rng.uniform(0, canvas.shape[0]), rng.uniform(0, canvas.shape[1]), rng.uniform(0.7, 2.0)
        canvas[(yy - row) ** 2 + (xx - col) ** 2 <= radius**2] = rng.uniform(0.5, 1.0)


def compose_number(digits: list[np.ndarray], touching: bool, rng: np.random.Generator) -> np.ndarray:
    """Ink maps of single digits -> grayscale image of the handwritten number."""
    height = rng.uniform(28, 44)
    slant = rng.uniform(-0.25, 0.25)
    inks = [digit_ink(d, height * rng.uniform(0.85, 1.15), slant + rng.normal(0, 0.05), rng) for d in digits]
    tallest = max(ink.shape[0] for ink in inks)
    margin = round(height * rng.uniform(0.2, 0.6))
    canvas = np.zeros((tallest + round(0.3 * height) + 2 * margin, 2 * sum(i.shape[1] + margin for i in inks)),
                      np.float32)
    for ink in inks:
        top = margin + int(rng.integers(0, round(0.3 * height) + 1))
        place(canvas, ink, top, touching, round(height * rng.uniform(0.12, 0.6)) if canvas.any() else margin, rng)
    used = np.nonzero((canvas > INK_THRESHOLD).any(axis=0))[0]
    canvas = canvas[:, : used.max() + 1 + margin]
    if rng.random() < 0.5:
        rule_lines(canvas, margin, tallest, rng)
    if rng.random() < 0.5:
        add_specks(canvas, rng)
    return on_paper(canvas, rng, invert=rng.random() < 0.3, noise=rng.uniform(0, 0.05),
                    unevenness=rng.uniform(0, 0.3), contrast=rng.uniform(0.6, 1.0)).astype(np.float32)
