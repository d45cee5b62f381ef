"""Finding the digits of a handwritten number: gray image -> candidate digits and their boxes.

Pure image processing. The ink is cleaned (ruling lines and specks removed) and deslanted; then
top-to-bottom cuts are drawn along low-ink paths: through the gaps between digits, and through
the joints of digits that touch (cuts that split the ink nearly alike are merged). Every pair of
nested cuts encloses a candidate digit (so the strokes of a broken digit can stay together), and
`best_split` picks the chain of cuts whose digits score best (the scores come from the classifier,
the whole-digit verifier and each candidate's shape: `khmerdigit.reading.reader`);
`best_split_of_length` does the same for a given number of digits (the line reader's count).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable, NamedTuple, Optional

import numpy as np
from PIL import Image
from scipy import ndimage

from khmerdigit.runtime.preprocess import INK_THRESHOLD, ink_map
from khmerdigit.runtime.registry import CONTEXT_WIDTH
from khmerdigit.runtime.ruling import empty_box, remove_ruling, row_shifts, shear_rows, unshear_rows

SLANTS = np.arange(-0.5, 0.501, 0.05)  # horizontal shift per row tried when deslanting
SPECK_SIZE = 0.3  # components smaller than this share of the digit height are dots or specks...
ATTACH_DISTANCE = 0.12  # ...and are kept only when this close to a larger component
LOWEST_HEIGHT = 0.5  # a digit is at least this share of the whole line's ink height
CUT_ROWS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)  # cuts pass through low points of these rows of the ink
DIAGONAL_COST = 0.02  # a cut prefers going straight down
NARROWEST, WIDEST = 0.35, 1.3  # digits are this narrow to this wide (share of the digit height); ៣ may be wider
PEN_LIFT = 0.1  # a gap inside a digit (a pen lift) is at most about this wide (share of the digit height)
FRAGMENT_HEIGHT = 0.8  # ink shorter than this share of the digit height is part of a digit
SPLIT_WIDTH = 1.1  # blobs narrower than this share of the digit height are one digit (or part of one)...
CUT_PENALTY = 2.0  # ...so cutting through their ink costs this much per digit height of ink crossed
MAX_WIDTH = 2.0  # a digit is at most this wide (share of the digit height; wider candidates are not scored)
NEAR_CUT = 0.008  # cuts that put fewer pixels than this times the digit height squared differently are one
SOFT_INK = 2  # faint ink within this many pixels of a digit's pixels belongs to it
LINE_GAP = 0.35  # lines of writing are apart by empty rows at least this share of the tallest one's height...
LINE_HEIGHT = 0.5  # ...and each is at least this share of its height (a ៩'s lifted roof is closer)
SLASH_LENGTH = 6  # a slash (a date's 07/08/2025) is a straight stroke this many times longer than wide or more...
SLASH_ANGLES = (35, 80)  # ...leaning right, this many degrees from the horizontal...
SLASH_HEIGHT = 0.6  # ...at least this share of the writing's height...
SLASH_GAP = 0.05  # ...with ink on both sides, this share of its height away or more
DATE_SLASHES = 2  # so many slashes are erased (a date's); one alone may be a ៤'s stem lifted off its body: kept


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

    def to_dict(self) -> dict:
        return {"x": self.left, "y": self.top, "width": self.width, "height": self.height}


def slice_box(region: tuple[slice, slice]) -> Box:
    rows, cols = region
    return Box(cols.start, rows.start, cols.stop, rows.stop)


def mask_box(mask: np.ndarray) -> Box:
    """Bounding box of a mask's True pixels."""
    return slice_box(ndimage.find_objects(mask.astype(np.int8))[0])


def paste(patch: np.ndarray, at: Box, window: Box) -> np.ndarray:
    """The part of `window` that `patch` (placed at `at`) covers; zeros elsewhere."""
    out = np.zeros((window.height, window.width), np.float32)
    top, left = max(at.top, window.top), max(at.left, window.left)
    bottom, right = min(at.bottom, window.bottom), min(at.right, window.right)
    if bottom > top and right > left:
        out[top - window.top : bottom - window.top, left - window.left : right - window.left] = \
            patch[top - at.top : bottom - at.top, left - at.left : right - at.left]
    return out


def resize(image: np.ndarray, size: int) -> np.ndarray:
    """A square float image scaled to size x size (antialiased)."""
    return np.asarray(Image.fromarray(image.astype(np.float32), "F").resize((size, size), Image.Resampling.BILINEAR))


def line_height(mask: np.ndarray, guess: float) -> float:
    """Typical digit height: the median height of the ink within a window of about one digit's width
    (robust to touching digits and to an uneven baseline, unlike whole components' heights), and at least
    LOWEST_HEIGHT of the whole line's ink height (a digit broken into short pieces makes a short guess)."""
    has_ink = mask.any(axis=0)
    tops = np.where(has_ink, mask.argmax(axis=0), mask.shape[0])
    bottoms = np.where(has_ink, mask.shape[0] - 1 - mask[::-1].argmax(axis=0), -1)
    window = max(1, round(0.6 * guess))
    extent = ndimage.maximum_filter1d(bottoms, window) - ndimage.minimum_filter1d(tops, window) + 1
    ink_rows = np.flatnonzero(mask.any(axis=1))
    return max(float(np.median(extent[has_ink])), LOWEST_HEIGHT * (ink_rows[-1] - ink_rows[0] + 1))


def profile_sharpness(mask: np.ndarray, slope: float) -> float:
    """How sharp the column profile of `mask` is with each row r shifted right by r * `slope` pixels: the
    sum of its squared column sums (highest when strokes line up)."""
    return float((shear_rows(mask, row_shifts(mask.shape[0], slope)).sum(axis=0) ** 2.0).sum())


def estimate_slant(mask: np.ndarray) -> float:
    """The row shift that makes the strokes most upright (the sharpest column profile)."""
    scores = [profile_sharpness(mask, slope) for slope in SLANTS]
    return float(SLANTS[int(np.argmax(scores))])


def cheapest_paths(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Top-down path costs: total[r, c] is the cost of the cheapest path from row 0 to (r, c) that
    moves at most one column a row; step[r, c] is where it came from (-1, 0, +1 columns)."""
    total, step = np.empty(cost.shape), np.zeros(cost.shape, int)
    total[0] = cost[0]
    for r in range(1, cost.shape[0]):
        previous = total[r - 1]
        options = np.stack([np.r_[np.inf, previous[:-1]] + DIAGONAL_COST, previous,
                            np.r_[previous[1:], np.inf] + DIAGONAL_COST])
        step[r] = options.argmin(axis=0) - 1
        total[r] = cost[r] + options.min(axis=0)
    return total, step


def cut_paths(cost: np.ndarray, rows: list[int]) -> np.ndarray:
    """Cheapest top-to-bottom paths through each low point of the given rows: (paths, height) columns."""
    height = cost.shape[0]
    down, down_step = cheapest_paths(cost)
    up, up_step = (a[::-1] for a in cheapest_paths(cost[::-1]))
    paths = []
    for row in rows:
        through = down[row] + up[row] - cost[row]  # the cheapest path through each pixel of the row
        padded = np.r_[np.inf, through, np.inf]
        path = np.zeros((height, 1), int) + np.flatnonzero((through <= padded[:-2]) & (through <= padded[2:]))
        for r in range(row, 0, -1):
            path[r - 1] = path[r] + down_step[r, path[r]]
        for r in range(row, height - 1):
            path[r + 1] = path[r] + up_step[r, path[r]]
        paths.append(path.T)
    return np.concatenate(paths)


def soft_ink(ink: np.ndarray, mask: np.ndarray, box: Box) -> np.ndarray:
    """The ink of `mask`'s pixels and of faint pixels around them, cut to `box`."""
    window = (slice(box.top, box.bottom), slice(box.left, box.right))
    return np.where(ndimage.binary_dilation(mask[window], iterations=SOFT_INK), ink[window], 0.0)


def digit_crop(ink: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The ink of one digit's pixels (`mask`) alone (1 = ink), on a square with a margin: for `preprocess_ink`."""
    return on_square(soft_ink(ink, mask, mask_box(mask)))


def on_square(patch: np.ndarray) -> np.ndarray:
    """A digit's ink, cut to its box, centred on a square a quarter larger than its longer side."""
    height, width = patch.shape
    side = round(max(width, height) * 1.25) + 2
    top, left = (side - height) // 2, (side - width) // 2
    return np.pad(patch, ((top, side - height - top), (left, side - width - left)))


class CandidateInk(NamedTuple):
    """The ink between two cuts in the image's own frame: its box, and its pixels and soft ink (`soft_ink`)
    cut to that box."""

    box: Box
    mask: np.ndarray
    ink: np.ndarray


@dataclass
class Segmentation:
    """A number's ink (deslanted) with the cuts that may separate its digits.

    Cut k is the set of ink pixels left of it (`left[k]`); cuts are sorted by that set's size,
    cut 0 has nothing on its left and the last cut everything. Digit candidates are the pixels
    between two nested cuts: `pixels(a, b)`.
    """

    ink: np.ndarray  # cleaned ink map in the image's own frame, 1 = ink
    shifts: np.ndarray  # row shifts from the image's frame to the upright (deslanted) one
    rows: np.ndarray  # upright coordinates of the ink pixels
    cols: np.ndarray
    left: np.ndarray  # (cuts, ink pixels) bool
    crossed: np.ndarray  # ink of single-digit blobs each cut crosses (share of the digit height)
    digit_height: float
    candidates: dict[tuple[int, int], CandidateInk] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def count(self) -> int:
        """Number of cuts."""
        return len(self.left)

    def pixels(self, a: int, b: int) -> np.ndarray:
        """Which ink pixels lie between cut a and cut b."""
        return self.left[b] & ~self.left[a]

    def image_pixels(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows and columns, in the image's own frame, of the ink pixels between cut a and cut b."""
        inside = self.pixels(a, b)
        rows = self.rows[inside]
        return rows, self.cols[inside] - self.shifts[rows]

    def mask(self, a: int, b: int) -> np.ndarray:
        """The candidate digit's ink pixels in the image's own frame."""
        mask = np.zeros(self.ink.shape, bool)
        mask[self.image_pixels(a, b)] = True
        return mask

    def candidate(self, a: int, b: int) -> CandidateInk:
        """The ink between cuts a and b, cut to its box; worked out once (the classifier and the verifier
        both look at every candidate)."""
        if (a, b) not in self.candidates:
            rows, cols = self.image_pixels(a, b)
            box = Box(int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1)
            mask = np.zeros((box.height, box.width), bool)
            mask[rows - box.top, cols - box.left] = True
            ink = soft_ink(self.ink[box.top : box.bottom, box.left : box.right], mask, Box(0, 0, box.width, box.height))
            self.candidates[a, b] = CandidateInk(box, mask, ink)
        return self.candidates[a, b]

    def box(self, a: int, b: int) -> Box:
        """Bounding box, in image pixels, of the ink between cuts a and b."""
        return self.candidate(a, b).box

    @cached_property
    def kept(self) -> np.ndarray:
        """All the number's ink pixels (specks and ruling removed) in the image's own frame."""
        return self.mask(0, self.count - 1)

    @cached_property
    def kept_ink(self) -> np.ndarray:
        """The ink of `kept` pixels, zero elsewhere."""
        return np.where(self.kept, self.ink, 0.0)

    def crop(self, a: int, b: int) -> np.ndarray:
        """The ink between cuts a and b alone, as written (not deslanted), as `digit_crop` cuts a digit."""
        return on_square(self.candidate(a, b).ink)

    def context(self, a: int, b: int, size: int) -> np.ndarray:
        """What the whole-digit verifier sees of the ink between cuts a and b: a square CONTEXT_WIDTH digit
        heights wide, centred on it, scaled to (size, size, 2); channel 0 is its ink, channel 1 the other ink."""
        box, mask, own = self.candidate(a, b)
        side = max(2, round(CONTEXT_WIDTH * self.digit_height))
        top, left = (box.top + box.bottom - side) // 2, (box.left + box.right - side) // 2
        window = Box(left, top, left + side, top + side)
        others = paste(self.kept_ink, Box(0, 0, *self.ink.shape[::-1]), window)
        others[paste(mask.astype(np.float32), box, window) > 0] = 0.0
        channels = [paste(own, box, window), others]
        return np.stack([resize(channel, size) for channel in channels], axis=-1)

    def groups(self) -> list[tuple[int, int]]:
        """Pairs of nested cuts (a, b) that could enclose one digit; every cut has at least its nearest successor."""
        left = self.left.astype(np.float32)
        size = left.sum(axis=1)
        nested = (left @ left.T == size[:, None]) & (size[:, None] < size[None, :])  # left[a] inside left[b]
        first_col = np.array([self.cols[~row].min() if (~row).any() else 0 for row in self.left])
        last_col = np.array([self.cols[row].max() if row.any() else 0 for row in self.left])
        pairs = []
        for a in range(self.count):
            successors = np.flatnonzero(nested[a])
            if successors.size == 0:
                continue
            nearest = successors[np.argmin(size[successors])]
            for b in successors:
                if b == nearest or last_col[b] - first_col[a] <= MAX_WIDTH * self.digit_height:
                    pairs.append((a, int(b)))
        return pairs

    def shape_score(self, a: int, b: int) -> float:
        """Log-plausibility, from its shape alone, that the ink between cuts a and b is one whole digit."""
        h = self.digit_height
        inside = self.pixels(a, b)
        rows, cols = self.rows[inside], self.cols[inside]
        width, height = (np.ptp(cols) + 1) / h, (np.ptp(rows) + 1) / h
        used = np.unique(cols)
        gap = (np.diff(used).max() - 1) / h if used.size > 1 else 0.0
        score = -(max(0.0, NARROWEST - width) / 0.1) ** 2 - (max(0.0, width - WIDEST) / 0.3) ** 2
        score -= (max(0.0, FRAGMENT_HEIGHT - height) / 0.1) ** 2  # a short group is part of a digit
        score -= (max(0.0, gap - PEN_LIFT) / 0.1) ** 2  # a wider gap separates two digits
        score -= CUT_PENALTY * self.crossed[b]  # cutting through a blob that holds a single digit
        return float(score)


def best_split(segmentation: Segmentation, score: Callable[[int, int], float],
               groups: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The chain of cuts from the first to the last whose digits (a, b) from `groups` score highest."""
    count = segmentation.count
    best = np.full(count, -np.inf)
    best[0] = 0.0
    previous = np.zeros(count, int)
    for a, b in sorted(groups):  # cuts are sorted by size, so a < b and every a is final before use
        total = best[a] + score(a, b)
        if total > best[b]:
            best[b], previous[b] = total, a
    chain, cut = [], count - 1
    while cut > 0:
        chain.append((int(previous[cut]), cut))
        cut = previous[cut]
    return chain[::-1]


def best_split_of_length(segmentation: Segmentation, score: Callable[[int, int, int], float],
                         groups: list[tuple[int, int]], length: int) -> Optional[list[tuple[int, int]]]:
    """Like `best_split`, but with exactly `length` digits, `score(a, b, k)` scoring (a, b) as digit k;
    None when no chain of cuts holds that many."""
    best = np.full((length + 1, segmentation.count), -np.inf)
    best[0, 0] = 0.0
    previous = np.zeros((length + 1, segmentation.count), int)
    for a, b in sorted(groups):
        for k in range(1, length + 1):
            total = best[k - 1, a] + score(a, b, k - 1)
            if total > best[k, b]:
                best[k, b], previous[k, b] = total, a
    if not np.isfinite(best[length, -1]):
        return None
    chain, cut = [], segmentation.count - 1
    for k in range(length, 0, -1):
        chain.append((int(previous[k, cut]), cut))
        cut = previous[k, cut]
    return chain[::-1]


def clean_components(mask: np.ndarray, ink: np.ndarray) -> tuple[np.ndarray, float]:
    """Drop specks far from the digits; returns the cleaned mask and a first guess of the digit height."""
    components, count = ndimage.label(mask, np.ones((3, 3), bool))
    if count == 0:
        return mask, float(mask.shape[0])
    boxes = [slice_box(region) for region in ndimage.find_objects(components)]
    mass = ndimage.sum(ink, components, np.arange(1, count + 1))
    guess = float(np.median([b.height for b, m in zip(boxes, mass) if m >= 0.3 * mass.max()]))
    small = np.array([max(b.width, b.height) < SPECK_SIZE * guess for b in boxes])
    large = np.isin(components, np.flatnonzero(~small) + 1)
    distance = ndimage.distance_transform_edt(~large)
    near = ndimage.minimum(distance, components, np.arange(1, count + 1)) <= ATTACH_DISTANCE * guess
    keep = np.r_[False, ~small | near]
    return keep[components], guess


@dataclass(frozen=True)
class CleanInk:
    """A number's ink, cleaned (ruling lines and specks removed) and deslanted."""

    ink: np.ndarray  # ink map in the image's own frame, ruling removed
    shifts: np.ndarray  # row shifts from the image's frame to the upright one
    upright: np.ndarray  # the ink, deslanted
    mask: np.ndarray  # the kept ink pixels (specks far from the digits dropped), upright
    digit_height: float
    slashes: int = 0  # slashes found (`slash_strokes`), erased from the ink when DATE_SLASHES or more
    frame_only: bool = False  # the ink found was a printed box with nothing written in it (`ruling.empty_box`)

    def image_mask(self, mask: np.ndarray) -> np.ndarray:
        """An upright mask in the image's own frame."""
        return unshear_rows(mask, self.shifts, self.ink.shape[1])

    @cached_property
    def blobs(self) -> list[np.ndarray]:
        """Upright masks of the separate pieces of ink, left to right. Neighbouring pieces are one digit
        when they overlap by half the narrower one's width (strokes stacked after a pen lift), or when
        together they are narrow enough for one digit and nearly touch or one is a fragment. A dot or speck
        kept beside a digit (`clean_components`) belongs to its neighbour."""
        components, _ = ndimage.label(self.mask, np.ones((3, 3), bool))
        spans = sorted((region[1].start, region[1].stop, region[0].start, region[0].stop, index + 1)
                       for index, region in enumerate(ndimage.find_objects(components)))
        h = self.digit_height
        groups: list[list] = []  # [left, right, top, bottom, component labels]
        for left, right, top, bottom, label in spans:
            if groups:
                g = groups[-1]
                overlap = min(g[1], right) - left
                merged = [g[0], max(g[1], right), min(g[2], top), max(g[3], bottom)]
                narrow = merged[1] - merged[0] <= SPLIT_WIDTH * max(h, merged[3] - merged[2])
                short = min(bottom - top, g[3] - g[2]) < FRAGMENT_HEIGHT * h
                speck = min(max(right - left, bottom - top), max(g[1] - g[0], g[3] - g[2])) < SPECK_SIZE * h
                if speck or overlap >= 0.5 * min(right - left, g[1] - g[0]) or narrow and (
                        overlap >= -PEN_LIFT * h or short and overlap >= -0.5 * h):
                    g[:4] = merged
                    g[4].append(label)
                    continue
            groups.append([left, right, top, bottom, [label]])
        return [np.isin(components, g[4]) for g in groups]

    @cached_property
    def lines(self) -> int:
        """How many lines of writing the ink holds, one above the other: bands of rows with ink, apart by
        LINE_GAP of the tallest band's height or more, each LINE_HEIGHT of its height or taller. A number is
        one line."""
        rows = np.flatnonzero(self.mask.any(axis=1))
        if rows.size == 0:
            return 0
        breaks = np.flatnonzero(np.diff(rows) > 1)
        bands = list(zip(np.r_[rows[0], rows[breaks + 1]], np.r_[rows[breaks], rows[-1]] + 1))
        gap = LINE_GAP * max(bottom - top for top, bottom in bands)
        merged = [list(bands[0])]
        for top, bottom in bands[1:]:
            if top - merged[-1][1] < gap:
                merged[-1][1] = bottom
            else:
                merged.append([top, bottom])
        tallest = max(bottom - top for top, bottom in merged)
        return sum(bottom - top >= LINE_HEIGHT * tallest for top, bottom in merged)

    def holds_one_digit(self, blob: np.ndarray, width: float = SPLIT_WIDTH) -> bool:
        """Whether a blob is narrower than `width` digit heights (by default: too narrow for two digits)."""
        box = mask_box(blob)
        return box.width <= width * max(self.digit_height, box.height)


def clean_ink(gray: np.ndarray) -> CleanInk:
    """Grayscale image of a handwritten number (either polarity) -> its cleaned, deslanted ink."""
    ink = ink_map(gray)
    frame_only = empty_box(ink > INK_THRESHOLD)
    ink = remove_ruling(ink, ink > INK_THRESHOLD)
    slashes = slash_strokes(ink > INK_THRESHOLD)
    if slashes.count >= DATE_SLASHES:
        ink = np.where(slashes.mask, 0.0, ink)
    shifts = row_shifts(ink.shape[0], estimate_slant(ink > INK_THRESHOLD))
    upright = shear_rows(ink, shifts)
    mask, guess = clean_components(upright > INK_THRESHOLD, upright)
    height = line_height(mask, guess) if mask.any() else float(ink.shape[0])
    return CleanInk(ink, shifts, upright, mask, height, slashes.count, frame_only)


class Slashes(NamedTuple):
    """The pixels of the slashes found (`slash_strokes`) and how many there are."""

    mask: np.ndarray
    count: int


def slash_strokes(mask: np.ndarray) -> Slashes:
    """The separate straight strokes leaning right, nearly as tall as the writing, set apart between other
    ink: the slashes of a date. Of the 2,267 real digits of ../shared none holds such a piece alone (the
    straightest pieces leaning so and as tall are 4.8 times longer than wide), but a ៤ whose stem is
    lifted off its body can, beside another digit (5 of 600 numbers of multi-writer valid/ digits, 9 of
    1,000 of pen-stroke digits), never twice."""
    components, count = ndimage.label(mask, np.ones((3, 3), bool))
    rows = np.nonzero(mask.any(axis=1))[0]
    slashes = np.zeros(count + 1, bool)
    for label, region in enumerate(ndimage.find_objects(components), 1):
        height = region[0].stop - region[0].start
        if height < SLASH_HEIGHT * (rows[-1] - rows[0] + 1):
            continue
        points = np.argwhere(components[region] == label).astype(float)
        centred = points - points.mean(axis=0)
        axes = np.linalg.eigh(centred.T @ centred)[1]  # columns: the narrow direction, then the long one
        long, across = np.ptp(centred @ axes[:, 1]) + 1, np.ptp(centred @ axes[:, 0]) + 1
        angle = np.degrees(np.arctan2(-axes[0, 1], axes[1, 1])) % 180  # 90: upright; below: leaning right
        if long >= SLASH_LENGTH * across and SLASH_ANGLES[0] <= angle <= SLASH_ANGLES[1]:
            slashes[label] = set_apart(mask & (components != label), components[region] == label, region,
                                       SLASH_GAP * height)
    return Slashes(slashes[components], int(slashes.sum()))


def set_apart(others: np.ndarray, piece: np.ndarray, region: tuple[slice, slice], gap: float) -> bool:
    """Whether, in the rows of `piece` (a crop of the image at `region`), other ink lies on both sides of
    it and nowhere closer than `gap` pixels."""
    nearest = []
    for row, inked in zip(others[region[0]], piece):
        columns = np.nonzero(inked)[0] + region[1].start
        ink = np.nonzero(row)[0]
        nearest.append((columns[0] - ink[ink < columns[0]].max(initial=-10**6),
                        ink[ink > columns[-1]].min(initial=10**6) - columns[-1]))
    left, right = np.min(nearest, axis=0)
    return gap <= left < 10**5 and gap <= right < 10**5


def segment(gray: np.ndarray, clean: Optional[CleanInk] = None) -> Segmentation:
    """Grayscale image of a handwritten number (either polarity) -> its ink and candidate cuts."""
    clean = clean or clean_ink(gray)
    ink, shifts, upright, mask, digit_height = clean.ink, clean.shifts, clean.upright, clean.mask, clean.digit_height
    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        return Segmentation(ink, shifts, rows, cols, np.zeros((1, 0), bool), np.zeros(1), float(ink.shape[0]))
    kept_ink = np.where(mask, upright, 0.0)
    paths = cut_paths(kept_ink + 0.01, [round(rows.min() + share * np.ptp(rows)) for share in CUT_ROWS])
    components, _ = ndimage.label(mask, np.ones((3, 3), bool))
    widths = [region[1].stop - region[1].start for region in ndimage.find_objects(components)]
    narrow = np.r_[False, np.array(widths) < SPLIT_WIDTH * digit_height]
    single_ink = np.where(narrow[components], kept_ink, 0.0)  # ink of blobs too narrow to hold two digits
    crossed = np.r_[0.0, single_ink[np.arange(len(upright)), paths].sum(axis=1), 0.0] / digit_height
    everything = np.ones((1, rows.size), bool)
    sides = np.vstack([~everything, cols[None, :] < paths[:, rows], everything])
    first_of = {}  # cuts that split the ink alike are one
    inverse = np.array([first_of.setdefault(row.tobytes(), len(first_of)) for row in np.packbits(sides, axis=1)])
    left = sides[np.unique(inverse, return_index=True)[1]]
    least_crossed = np.full(len(left), np.inf)
    np.minimum.at(least_crossed, inverse.ravel(), crossed)
    kept = distinct_cuts(left, least_crossed, NEAR_CUT * digit_height**2)
    order = kept[np.argsort(left[kept].sum(axis=1))]
    return Segmentation(ink, shifts, rows, cols, left[order], least_crossed[order], digit_height)


def distinct_cuts(left: np.ndarray, crossed: np.ndarray, tolerance: float) -> np.ndarray:
    """Indices of the cuts to keep: of cuts that put all but `tolerance` pixels on the same sides, the
    one crossing the least ink (the first and last cut, which hold nothing and everything, always stay)."""
    as_float = left.astype(np.float32)
    differ = as_float @ (1 - as_float).T
    differ += differ.T  # pixels on different sides of two cuts
    ends = ~left.any(axis=1) | left.all(axis=1)
    kept: list[int] = []
    for cut in sorted(range(len(left)), key=lambda c: (not ends[c], crossed[c])):
        if all(differ[cut, other] > tolerance for other in kept):
            kept.append(cut)
    return np.array(kept)
