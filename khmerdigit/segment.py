"""Finding the digits of a handwritten number: gray image -> ink pieces and digit boxes.

Pure image processing. The ink is cleaned (ruling lines removed, specks dropped), deslanted,
and cut into pieces small enough that every digit is a run of consecutive pieces: strokes that
overlap horizontally are one piece, wide blobs of touching digits are cut along low-ink seams.
`best_grouping` chooses the runs, from their shape alone (`digit_boxes`) or together with a
classifier's confidence (`khmerdigit.reading`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import ndimage

from khmerdigit.preprocess import INK_THRESHOLD, ink_map

LINE_TILTS = np.tan(np.deg2rad(np.arange(-2.0, 2.01, 0.5)))  # ruling lines may be this tilted
SLANTS = np.arange(-0.5, 0.501, 0.05)  # horizontal shift per row tried when deslanting
SPECK_SIZE = 0.3  # components smaller than this share of the digit height are dots or specks...
ATTACH_DISTANCE = 0.12  # ...and belong to a digit when this close to it, else are dropped
OVERLAP = 0.5  # components overlapping horizontally by this share of the narrower one are one digit
SPLIT_WIDTH = 0.9  # pieces wider than this share of the digit height get candidate cuts
MIN_PART = 0.3  # no cut leaves a part narrower than this share of the digit height
SEAM_REACH = 0.15  # a cut may wander this share of the digit height around its column
MAX_PIECES = 4  # a digit is at most this many consecutive pieces
MAX_WIDTH = 2.0  # and at most this wide (share of the digit height)
SOFT_INK = 2  # faint ink within this many pixels of a piece belongs to it


@dataclass(frozen=True)
class Box:
    """A pixel rectangle; right and bottom are exclusive."""

    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    def union(self, other: "Box") -> "Box":
        return Box(min(self.left, other.left), min(self.top, other.top),
                   max(self.right, other.right), max(self.bottom, other.bottom))

    def to_dict(self) -> dict:
        return {"x": self.left, "y": self.top, "width": self.width, "height": self.height}


def slice_box(region: tuple[slice, slice]) -> Box:
    rows, cols = region
    return Box(cols.start, rows.start, cols.stop, rows.stop)


def run_lengths(mask: np.ndarray, axis: int) -> np.ndarray:
    """For every True pixel, the length of the straight run of True pixels along `axis` it lies in."""
    structure = np.zeros((3, 3), bool)
    structure[1, :] = axis == 1
    structure[:, 1] = axis == 0
    runs, _ = ndimage.label(mask, structure)
    sizes = np.bincount(runs.ravel())
    sizes[0] = 0
    return sizes[runs]


def shear_rows(image: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """Shift row r right by shifts[r] (>= 0) on a canvas wide enough to hold every row."""
    rows, cols = np.indices(image.shape)
    out = np.zeros((image.shape[0], image.shape[1] + int(shifts.max())), image.dtype)
    out[rows, cols + shifts[:, None]] = image
    return out


def unshear_rows(sheared: np.ndarray, shifts: np.ndarray, width: int) -> np.ndarray:
    """The inverse of `shear_rows`."""
    rows, cols = np.indices((sheared.shape[0], width))
    return sheared[rows, cols + shifts[:, None]]


def row_shifts(height: int, slope: float) -> np.ndarray:
    """Non-negative integer row shifts that undo a slant of `slope` pixels per row."""
    shifts = np.round(np.arange(height) * slope).astype(int)
    return shifts - shifts.min()


def remove_ruling(ink: np.ndarray) -> np.ndarray:
    """Erase long, thin, nearly horizontal lines, keeping the strokes that cross them."""
    mask = ink > INK_THRESHOLD
    height, width = mask.shape
    length = max(0.5 * width, min(1.2 * height, 0.9 * width))
    grown = ndimage.binary_dilation(mask, np.ones((3, 1), bool))  # tolerates the steps of a tilted line
    lines = np.zeros_like(mask)
    for tilt in LINE_TILTS:  # straighten each tilt by shifting columns, then find long horizontal runs
        shifts = row_shifts(width, tilt)
        straight = shear_rows(grown.T, shifts).T
        lines |= unshear_rows((run_lengths(straight, 1) >= length).T, shifts, height).T
    lines &= mask
    if not lines.any():
        return ink
    vertical = run_lengths(mask, 0)
    line_only = lines & (vertical <= np.median(vertical[lines]) + 1)  # thicker runs are crossing strokes
    erase = ndimage.binary_dilation(line_only, np.ones((3, 1), bool)) & ~(mask & ~line_only)
    return np.where(erase, 0.0, ink).astype(np.float32)


def estimate_slant(mask: np.ndarray) -> float:
    """The row shift that makes the strokes most upright (the sharpest column profile)."""
    def sharpness(slope: float) -> float:
        return float((shear_rows(mask, row_shifts(mask.shape[0], slope)).sum(axis=0) ** 2.0).sum())

    scores = [sharpness(slope) for slope in SLANTS]
    return float(SLANTS[int(np.argmax(scores))])


def seam(cost: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """The cheapest top-to-bottom path (one column per row, moving at most one column a row)
    with low[r] <= column <= high[r]."""
    rows, cols = cost.shape
    allowed = (np.arange(cols) >= low[:, None]) & (np.arange(cols) <= high[:, None])
    total = np.where(allowed[0], cost[0], np.inf)
    steps = np.zeros((rows, cols), int)
    for r in range(1, rows):
        options = np.stack([np.r_[np.inf, total[:-1]], total, np.r_[total[1:], np.inf]])
        steps[r] = options.argmin(axis=0) - 1
        total = np.where(allowed[r], cost[r] + options.min(axis=0), np.inf)
    path = np.zeros(rows, int)
    path[-1] = int(total.argmin())
    for r in range(rows - 1, 0, -1):
        path[r - 1] = path[r] + steps[r, path[r]]
    return path


def cut_columns(profile: np.ndarray, digit_height: float) -> list[int]:
    """Candidate cut columns of a wide piece: the low points of its column ink profile."""
    margin = max(1, round(MIN_PART * digit_height))
    smooth = ndimage.gaussian_filter1d(profile, max(1.0, 0.04 * digit_height))
    inner = np.arange(margin, len(profile) - margin)
    if inner.size == 0:
        return []
    is_low = (smooth[inner] <= smooth[inner - 1]) & (smooth[inner] <= smooth[inner + 1])
    lows = list(inner[is_low]) or [int(inner[smooth[inner].argmin()])]
    chosen: list[int] = []
    for column in sorted(lows, key=lambda c: smooth[c]):
        if all(abs(column - other) >= MIN_PART * digit_height for other in chosen):
            chosen.append(int(column))
    return sorted(chosen)[: max(1, int(len(profile) / (MIN_PART * digit_height)))]


def cut_piece(ink: np.ndarray, piece: np.ndarray, digit_height: float) -> np.ndarray:
    """Cut a wide piece (bool mask, upright) along seams: 0 outside it, parts numbered 1, 2, ... from the left."""
    rows, cols = np.nonzero(piece)
    top, left = rows.min(), cols.min()
    window = (slice(top, rows.max() + 1), slice(left, cols.max() + 1))
    cost = np.where(piece[window], ink[window], 0.0) + 0.01
    reach = max(1, round(SEAM_REACH * digit_height))
    parts = np.zeros(cost.shape, int)
    previous = np.zeros(cost.shape[0], int)
    for column in cut_columns(cost.sum(axis=0), digit_height):
        path = seam(cost, np.maximum(previous, column - reach), np.full(cost.shape[0], column + reach))
        parts += np.arange(cost.shape[1]) >= path[:, None]
        previous = path + 1
    labelled = np.zeros(piece.shape, int)
    labelled[window] = np.where(piece[window], parts + 1, 0)
    present = np.unique(labelled[labelled > 0])  # a seam may leave a part empty: renumber without gaps
    return np.where(labelled > 0, np.searchsorted(present, labelled) + 1, 0)


@dataclass
class Segmentation:
    """A number's ink cut into pieces, numbered left to right (0-based pieces; label = index + 1)."""

    ink: np.ndarray  # cleaned ink map, 1 = ink
    pieces: np.ndarray  # int labels in the image's own frame; 0 = background, ruling, specks
    soft: np.ndarray  # like `pieces`, grown over the faint ink around each piece
    upright: list[Box]  # each piece's box after deslanting, for shape scores
    digit_height: float

    @property
    def count(self) -> int:
        return len(self.upright)

    def box(self, first: int, last: int) -> Box:
        """Bounding box, in image pixels, of pieces first..last."""
        rows, cols = np.nonzero((self.pieces > first) & (self.pieces <= last + 1))
        return Box(int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1)

    def crop(self, first: int, last: int) -> np.ndarray:
        """Pieces first..last alone, as dark ink on white, on a square with a margin."""
        box = self.box(first, last)
        window = (slice(box.top, box.bottom), slice(box.left, box.right))
        owned = (self.soft[window] > first) & (self.soft[window] <= last + 1)
        ink = np.where(owned, self.ink[window], 0.0)
        side = round(max(box.width, box.height) * 1.25) + 2
        top, left = (side - box.height) // 2, (side - box.width) // 2
        return 1.0 - np.pad(ink, ((top, side - box.height - top), (left, side - box.width - left)))

    def groups(self) -> list[tuple[int, int]]:
        """Runs of consecutive pieces that could be one digit."""
        return [(first, last) for first in range(self.count)
                for last in range(first, min(first + MAX_PIECES, self.count))
                if self.upright_box(first, last).width <= MAX_WIDTH * self.digit_height]

    def upright_box(self, first: int, last: int) -> Box:
        box = self.upright[first]
        for other in self.upright[first + 1 : last + 1]:
            box = box.union(other)
        return box

    def shape_score(self, first: int, last: int) -> float:
        """Log-plausibility, from its shape alone, that pieces first..last are one whole digit."""
        h = self.digit_height
        box = self.upright_box(first, last)
        width, height = box.width / h, box.height / h
        score = -0.5 * (np.log(width / 0.8) / 0.4) ** 2  # digits are about 0.45-1.6 heights wide
        score -= (max(0.0, 0.6 - height) / 0.1) ** 2  # a short group is part of a digit
        spans = sorted((b.left, b.right) for b in self.upright[first : last + 1])
        reach = spans[0][1]
        for start, stop in spans[1:]:
            score -= (max(0.0, start - reach) / h / 0.1) ** 2  # a wide gap separates two digits
            reach = max(reach, stop)
        return float(score)


def best_grouping(count: int, score: Callable[[int, int], float], groups: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The split of pieces 0..count-1 into consecutive runs from `groups` with the highest total score."""
    best = np.full(count + 1, -np.inf)
    best[0] = 0.0
    choice: list[tuple[int, int]] = [(0, 0)] * (count + 1)
    ends: dict[int, list[int]] = {}
    for first, last in groups:
        ends.setdefault(last, []).append(first)
    for last in range(count):
        for first in ends.get(last, []):
            total = best[first] + score(first, last)
            if total > best[last + 1]:
                best[last + 1], choice[last + 1] = total, (first, last)
    runs, end = [], count
    while end > 0:
        runs.append(choice[end])
        end = choice[end][0]
    return runs[::-1]


def merge_overlapping(boxes: list[Box], ids: list[int]) -> list[list[int]]:
    """Group component ids whose boxes overlap horizontally by OVERLAP of the narrower one."""
    groups: list[tuple[Box, list[int]]] = []
    for box, component in sorted(zip(boxes, ids), key=lambda pair: pair[0].left):
        for index, (group_box, members) in enumerate(groups):
            overlap = min(box.right, group_box.right) - max(box.left, group_box.left)
            if overlap >= OVERLAP * min(box.width, group_box.width):
                groups[index] = (group_box.union(box), members + [component])
                break
        else:
            groups.append((box, [component]))
    return [members for _, members in groups]


def segment(gray: np.ndarray) -> Segmentation:
    """Grayscale image of a handwritten number (either polarity) -> its ink cut into pieces."""
    ink = remove_ruling(ink_map(gray))
    height, width = ink.shape
    mask = ink > INK_THRESHOLD
    shifts = row_shifts(height, estimate_slant(mask))
    upright_ink, upright_mask = shear_rows(ink, shifts), shear_rows(mask, shifts)
    components, count = ndimage.label(upright_mask, np.ones((3, 3), bool))
    empty = Segmentation(ink, np.zeros(ink.shape, int), np.zeros(ink.shape, int), [], float(height))
    if count == 0:
        return empty
    boxes = [slice_box(region) for region in ndimage.find_objects(components)]
    mass = ndimage.sum(upright_ink, components, np.arange(1, count + 1))
    digit_height = float(np.median([b.height for b, m in zip(boxes, mass) if m >= 0.3 * mass.max()]))
    small = np.array([max(b.width, b.height) < SPECK_SIZE * digit_height for b in boxes])
    if small.all():
        return empty

    # Specks near a larger component join it; the others are dropped.
    large_ids = np.flatnonzero(~small) + 1
    distance, (near_rows, near_cols) = ndimage.distance_transform_edt(
        ~np.isin(components, large_ids), return_indices=True)
    owner = np.arange(count + 1)
    for component in np.flatnonzero(small) + 1:
        at = components == component
        closest = np.unravel_index(np.argmin(np.where(at, distance, np.inf)), at.shape)
        near = distance[closest] <= ATTACH_DISTANCE * digit_height
        owner[component] = components[near_rows[closest], near_cols[closest]] if near else 0
    components = owner[components]

    upright = np.zeros(components.shape, int)
    for members in merge_overlapping([boxes[i - 1] for i in large_ids], list(large_ids)):
        piece = np.isin(components, members)
        box = slice_box(ndimage.find_objects(piece.astype(int))[0])
        parts = cut_piece(upright_ink, piece, digit_height) if box.width > SPLIT_WIDTH * digit_height else piece
        upright = np.where(parts > 0, parts + upright.max(), upright)

    regions = ndimage.find_objects(upright)
    order = np.argsort([(r[1].start + r[1].stop) for r in regions])  # left to right
    relabel = np.zeros(len(regions) + 1, int)
    relabel[order + 1] = np.arange(1, len(regions) + 1)
    upright = relabel[upright]
    pieces = unshear_rows(upright, shifts, width)
    near_piece, (rows, cols) = ndimage.distance_transform_edt(pieces == 0, return_indices=True)
    soft = np.where((near_piece <= SOFT_INK) & (ink > 0), pieces[rows, cols], 0)
    return Segmentation(ink, pieces, soft, [slice_box(regions[i]) for i in order], digit_height)


def digit_boxes(gray: np.ndarray) -> list[Box]:
    """The digits' boxes, left to right, judged from shape alone (no classifier)."""
    segmentation = segment(gray)
    runs = best_grouping(segmentation.count, segmentation.shape_score, segmentation.groups())
    return [segmentation.box(first, last) for first, last in runs]
