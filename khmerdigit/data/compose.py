"""Images of handwritten numbers composed from single digits, with each digit's true pixels.

Used to train the whole-digit verifier (`khmerdigit.train.verifier_data`), by the reading benchmark
and by tests. Digits get uneven spacing, slant, size and baseline jitter and sometimes a broken
stroke; neighbours may touch (overlapping by a pixel or two where they come closest, or joined by a
short stroke); the page may have ruling lines, specks, noise, uneven paper and either polarity.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from khmerdigit import NUM_CLASSES
from khmerdigit.data.augment import affine, break_stroke, on_paper
from khmerdigit.data.dataset import labelled_files, prepare
from khmerdigit.data.strokes import render_digit
from khmerdigit.data.synth import render_font_digit
from khmerdigit.fonts import find_fonts
from khmerdigit.progress import Track, no_track
from khmerdigit.runtime.preprocess import INK_THRESHOLD, as_gray, ink_map, remove_specks

BROKEN_SHARE = 0.15  # digits drawn with a pen lift in one stroke (as often as in the pen-stroke model)


def ink_box(ink: np.ndarray) -> np.ndarray:
    """Crop an ink map to its ink."""
    rows, cols = np.nonzero(ink > INK_THRESHOLD)
    return ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]


def digit_ink(ink: np.ndarray, height: float, slant: float, rng: np.random.Generator) -> np.ndarray:
    """One digit's ink, scaled to `height`, slanted, sometimes with a broken stroke."""
    ink = ink_box(remove_specks(ink))
    scale = height / ink.shape[0]
    size = (max(2, round(ink.shape[1] * scale)), max(2, round(height)))
    ink = np.asarray(Image.fromarray(ink.astype(np.float32), "F").resize(size, Image.Resampling.BILINEAR))
    pad = int(abs(slant) * height) + 2
    ink = ink_box(np.clip(affine(np.pad(ink, pad), shear=slant), 0, 1))
    return ink_box(break_stroke(ink, rng)) if rng.random() < BROKEN_SHARE else ink


def draw_stroke(canvas: np.ndarray, start: tuple[int, int], end: tuple[int, int], radius: float) -> None:
    """A straight pen stroke of the given radius from start to end (row, column)."""
    yy, xx = np.indices(canvas.shape)
    for t in np.linspace(0, 1, int(np.hypot(end[0] - start[0], end[1] - start[1])) + 2):
        row, col = start[0] + t * (end[0] - start[0]), start[1] + t * (end[1] - start[1])
        canvas[(yy - row) ** 2 + (xx - col) ** 2 <= radius**2] = 1.0


def place(canvas: np.ndarray, ink: np.ndarray, top: int, touching: bool, gap: int, max_overlap: int,
          rng: np.random.Generator) -> np.ndarray:
    """Paste `ink` right of what is on `canvas` (from column `gap` on an empty one): `gap` pixels away,
    or touching it while overlapping the ink before by at most `max_overlap` columns (joined by a
    short connecting stroke if their shapes do not meet there). Returns the pixels it inked."""
    before = canvas.copy()
    layer = np.zeros_like(canvas)
    layer[top : top + ink.shape[0], : ink.shape[1]] = ink
    drawn, new = canvas > INK_THRESHOLD, layer > INK_THRESHOLD
    right = np.where(drawn.any(axis=1), canvas.shape[1] - 1 - np.argmax(drawn[:, ::-1], axis=1), -1)
    rows = drawn.any(axis=1) & new.any(axis=1)
    if touching and rows.any():  # where the two come closest, they overlap by a pixel or two
        closest = int(np.max(right[rows] - np.argmax(new[rows], axis=1))) - int(rng.integers(0, 2))
        left = max(closest, int(right.max()) + 1 - max_overlap)
    else:
        left = int(right.max()) + 1 + gap
    window = (slice(top, top + ink.shape[0]), slice(left, left + ink.shape[1]))
    if touching and drawn.any():
        distance, (near_rows, near_cols) = ndimage.distance_transform_edt(~drawn, return_indices=True)
        away = np.where(ink > INK_THRESHOLD, distance[window], np.inf)
        if away.min() > 1.5:
            start = np.unravel_index(np.argmin(away), away.shape)
            start = (start[0] + top, start[1] + left)
            depth = ndimage.distance_transform_edt(ink > INK_THRESHOLD)[ink > 0.5]  # empty for faint ink
            radius = max(1.0, float(np.median(depth))) if depth.size else 1.0
            draw_stroke(canvas, start, (near_rows[start], near_cols[start]), radius)
    canvas[window] = np.maximum(canvas[window], ink)
    return (canvas > INK_THRESHOLD) & (canvas > before)


def rule_lines(canvas: np.ndarray, top: int, height: int, rng: np.random.Generator) -> None:
    """Draw one to three long, thin, slightly tilted lines across the canvas: under the digits,
    above them, or (less often) through them."""
    cols = np.arange(canvas.shape[1])
    for _ in range(int(rng.integers(1, 4))):
        row = top + height * rng.choice([rng.uniform(0.9, 1.15), rng.uniform(-0.3, 0.0), rng.uniform(0.2, 0.8)],
                                         p=[0.45, 0.35, 0.2])
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


def compose_number(digits: list[np.ndarray], touching: float,
                   rng: np.random.Generator) -> tuple[np.ndarray, list[np.ndarray]]:
    """Ink maps of single digits -> grayscale image of the handwritten number and each digit's pixels.
    Each pair of neighbours touches with probability `touching` (at least one pair if `touching` > 0)."""
    height = rng.uniform(28, 44)
    slant = rng.uniform(-0.25, 0.25)
    inks = [digit_ink(d, height * rng.uniform(0.85, 1.15), slant + rng.normal(0, 0.05), rng) for d in digits]
    tallest = max(ink.shape[0] for ink in inks)
    margin = round(height * rng.uniform(0.2, 0.6))
    canvas = np.zeros((tallest + round(0.3 * height) + 2 * margin, 2 * sum(i.shape[1] + margin for i in inks)),
                      np.float32)
    touches = rng.random(len(inks)) < touching
    if touching and len(inks) > 1 and not touches[1:].any():
        touches[rng.integers(1, len(inks))] = True
    masks = []
    for before, ink, touch in zip([inks[0]] + inks, inks, touches):
        top = margin + int(rng.integers(0, round(0.3 * height) + 1))
        gap = round(height * rng.uniform(0.12, 0.6)) if canvas.any() else margin
        masks.append(place(canvas, ink, top, bool(touch), gap, round(0.25 * min(before.shape[1], ink.shape[1])), rng))
    width = int(np.nonzero((canvas > INK_THRESHOLD).any(axis=0))[0].max()) + 1 + margin
    canvas, masks = canvas[:, :width], [mask[:, :width] for mask in masks]
    if rng.random() < 0.5:
        rule_lines(canvas, margin, tallest, rng)
    if rng.random() < 0.5:
        add_specks(canvas, rng)
    gray = on_paper(canvas, rng, invert=rng.random() < 0.3, noise=rng.uniform(0, 0.05),
                    unevenness=rng.uniform(0, 0.3), contrast=rng.uniform(0.6, 1.0))
    return gray.astype(np.float32), masks


def photographed_number(gray: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The composed number as a phone photo: gray paper with a shadow, defocus, lower contrast, JPEG."""
    rows, cols = np.mgrid[0 : gray.shape[0], 0 : gray.shape[1]] / max(gray.shape)
    angle = rng.uniform(0, 2 * np.pi)
    shadow = 1.0 - rng.uniform(0.1, 0.35) * np.clip(np.cos(angle) * rows + np.sin(angle) * cols, 0, 1)
    paper = rng.uniform(0.55, 0.8)
    photo = ndimage.gaussian_filter(gray, rng.uniform(0.6, 1.4))
    photo = (paper * (0.35 + 0.65 * photo)) * shadow + rng.normal(0, 0.02, gray.shape)
    buffer = io.BytesIO()
    Image.fromarray(np.round(np.clip(photo, 0, 1) * 255).astype(np.uint8)).save(buffer, "JPEG",
                                                                               quality=int(rng.integers(30, 70)))
    return np.asarray(Image.open(buffer), np.float32) / 255.0


def turned_number(gray: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The composed number turned 3-15° either way, paper around it: a page photographed askew, or a line
    written uphill."""
    degrees = rng.uniform(3, 15) * rng.choice([-1, 1])
    return ndimage.rotate(gray, degrees, reshape=True, order=1, mode="constant", cval=float(np.median(gray)))


DigitPool = dict[int, list[np.ndarray]]  # digit -> ink maps of single handwritten digits


def stroke_digits(per_class: int, rng: np.random.Generator) -> DigitPool:
    """Ink maps of freshly drawn pen-stroke digits."""
    return {d: [ink_map(np.asarray(render_digit(d, rng, 64), np.float32) / 255.0) for _ in range(per_class)]
            for d in range(NUM_CLASSES)}


def font_digits(per_class: int, rng: np.random.Generator) -> DigitPool:
    """Ink maps of digits drawn with the Khmer fonts found on this machine (empty without any)."""
    fonts = find_fonts()
    return {d: [ink_map(render_font_digit(fonts[int(rng.integers(len(fonts)))], d, rng))
                for _ in range(per_class if fonts else 0)] for d in range(NUM_CLASSES)}


def split_digits(prepared: Path, split: str) -> DigitPool:
    """Ink maps of the digits in one split of a prepared dataset."""
    pool: DigitPool = {d: [] for d in range(NUM_CLASSES)}
    for sample in labelled_files(Path(prepared), split).samples:
        pool[sample.label].append(ink_map(as_gray(sample.path)))
    return pool


def training_pools(real: Path, multiwriter: Path, workdir: Path, rng: np.random.Generator,
                   track: Track = no_track) -> list[DigitPool]:
    """The digits the verifier and the line reader compose their training numbers from: pen-stroke
    digits, font digits, the train split of `prepare(real, seed=0)` (the bundled digit model's split,
    so its test split stays held out, prepared in `workdir` once) and the multi-writer set's `train/`
    (never its `valid/`, the yardstick)."""
    prepared = workdir / "real-prepared"
    if not prepared.exists():
        prepare(real, prepared, seed=0, track=track)
    return [stroke_digits(300, rng), font_digits(150, rng), split_digits(prepared, "train"),
            split_digits(multiwriter, "train")]
