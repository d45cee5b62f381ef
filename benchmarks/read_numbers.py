"""Reading-whole-numbers benchmark: exact-number and per-digit accuracy of `read_number`.

    python benchmarks/read_numbers.py [--real ../shared/data/khmer-digits-real] [--numbers 200]
                                      [--model FILE] [--workdir build/read-bench] [--seed 0]

Composes seeded images of 4-digit and 2-10 digit numbers from held-out real digits (the test
split of `prepare(REAL, seed=0)`, which the bundled model never trained on) and from freshly
drawn pen-stroke digits, with uneven spacing, slant, size and baseline jitter, broken strokes,
ruling lines, specks, noise, uneven paper and either polarity. Spacing "clean": gaps between
all digits; "touching pairs": each pair of neighbours touches with probability 1/2 (at least one
pair does); "all touching": every pair touches. Touching digits overlap by a pixel or two where
they come closest, or are joined by a short stroke. "exact, true cuts" reads the same images
with each digit cut out perfectly: what the classifier alone gets right.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from khmerdigit import percent
from khmerdigit.augment import affine, on_paper
from khmerdigit.console import out, simple_table, track
from khmerdigit.dataset import labelled_files, prepare
from khmerdigit.predictor import Classifier, load_classifier
from khmerdigit.preprocess import INK_THRESHOLD, as_gray, ink_map, preprocess, remove_specks
from khmerdigit.reading import read_number
from khmerdigit.strokes import render_digit

BROKEN_SHARE = 0.15  # digits drawn with a pen lift in one stroke (as often as in the pen-stroke model)


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
            radius = max(1.0, float(np.median(ndimage.distance_transform_edt(ink > INK_THRESHOLD)[ink > 0.5])))
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


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: insertions, deletions and substitutions."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def read_with_true_cuts(gray: np.ndarray, masks: list[np.ndarray], classifier: Classifier) -> str:
    """The number as read if every digit were cut out perfectly: the classifier's share of the errors."""
    ink = ink_map(gray)
    crops = []
    for mask in masks:
        rows, cols = np.nonzero(mask)
        window = (slice(rows.min(), rows.max() + 1), slice(cols.min(), cols.max() + 1))
        crops.append(preprocess(1.0 - np.where(ndimage.binary_dilation(mask, iterations=2), ink, 0.0)[window],
                                classifier.config))
    return "".join(str(label) for label in classifier.probabilities(np.stack(crops)).argmax(axis=1))


@dataclass
class Score:
    """Counts for one table row."""

    numbers: int = 0
    exact: int = 0
    exact_true_cuts: int = 0
    digits: int = 0
    digit_errors: int = 0
    seconds: float = 0.0

    def row(self) -> list[str]:
        return [str(self.numbers), percent(self.exact / self.numbers), percent(1 - self.digit_errors / self.digits),
                percent(self.exact_true_cuts / self.numbers), f"{1000 * self.seconds / self.numbers:.0f}"]


def score(classifier: Classifier, pool: dict[int, list[np.ndarray]], lengths: tuple[int, int], touching: float,
          numbers: int, rng: np.random.Generator) -> Score:
    """Read `numbers` composed numbers; exact-number and per-digit (1 - edit distance / length) accuracy."""
    result = Score()
    for _ in track(range(numbers), f"{lengths[0]}-{lengths[1]} digits, touching {touching:.0%}"):
        labels = rng.integers(0, 10, int(rng.integers(lengths[0], lengths[1] + 1)))
        gray, masks = compose_number([pool[d][rng.integers(len(pool[d]))] for d in labels], touching, rng)
        truth = "".join(map(str, labels))
        start = time.perf_counter()
        read = read_number(gray, classifier).arabic
        result.seconds += time.perf_counter() - start
        result.numbers += 1
        result.exact += read == truth
        result.exact_true_cuts += read_with_true_cuts(gray, masks, classifier) == truth
        result.digits += len(truth)
        result.digit_errors += min(len(truth), edit_distance(read, truth))
    return result


def real_pool(real: Path, workdir: Path) -> dict[int, list[np.ndarray]]:
    """Ink maps of the held-out real digits: the test split of prepare(REAL, seed=0)."""
    prepared = workdir / "real-prepared"
    if not prepared.exists():
        prepare(real, prepared, seed=0, track=track)
    pool: dict[int, list[np.ndarray]] = {d: [] for d in range(10)}
    for sample in labelled_files(prepared, "test").samples:
        pool[sample.label].append(ink_map(as_gray(sample.path)))
    return pool


def synthetic_pool(per_class: int, rng: np.random.Generator) -> dict[int, list[np.ndarray]]:
    """Ink maps of freshly drawn pen-stroke digits."""
    return {d: [ink_map(np.asarray(render_digit(d, rng, 64), np.float32) / 255.0) for _ in range(per_class)]
            for d in range(10)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--real", type=Path, default=Path("../shared/data/khmer-digits-real"))
    parser.add_argument("--workdir", type=Path, default=Path("build/read-bench"))
    parser.add_argument("--model", type=Path, help="Model file (default: the bundled model).")
    parser.add_argument("--numbers", type=int, default=100, help="Numbers per table row.")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    classifier = load_classifier(args.model)
    rng = np.random.default_rng(args.seed)
    pools = {"real (held out)": real_pool(args.real, args.workdir), "synthetic": synthetic_pool(50, rng)}
    spacings = {"clean": 0.0, "touching pairs": 0.5, "all touching": 1.0}
    rows = []
    for source, pool in pools.items():
        for lengths in ((4, 4), (2, 10)):
            for spacing, touching in spacings.items():
                result = score(classifier, pool, lengths, touching, args.numbers, rng)
                length = f"{lengths[0]}" if lengths[0] == lengths[1] else f"{lengths[0]}-{lengths[1]}"
                rows.append([source, length, spacing, *result.row()])
    header = ["digits from", "length", "spacing", "numbers", "exact number", "per digit", "exact, true cuts",
              "ms/number"]
    out.print(simple_table(f"Reading whole numbers with {classifier.path.name} (seed {args.seed})", header, rows))


if __name__ == "__main__":
    main()
