"""Lines that are not writing: ruled and squared paper, boxes drawn around digits (form fields), underlines.

`remove_ruling` is a step of the one preprocessing path (`preprocess.digit_ink`: boxes and underlines) and of
reading numbers (`khmerdigit.reading.segment.clean_ink`: paper lines too). Lines are found as long,
straight runs of thin ink, nearly horizontal (and, on the transposed image, nearly vertical); strokes
crossing a line are kept.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

LINE_TILTS = np.tan(np.deg2rad(np.arange(-2.0, 2.01, 0.5)))  # lines may be this tilted
COLUMN_LINE = 0.95  # a vertical line is ruling (squared paper) when it runs through this share of the image height
SHORTEST_LINE = 20  # other lines are at least this many pixels long (in smaller images a digit's curves look straight)
FRAME_TOP = 0.5  # a box's top or bottom is at least this share of the image width...
FRAME_SIDE = 0.4  # ...and its sides this share of the image height; each joins the other two at its ends...
FRAME_CONTENT = 0.1  # ...and the middle half of the box holds ink apart from it, at least this share of its ink
UNDERLINE = 0.5  # a line drawn under or over the writing is at least this share of the ink's width long...
THIN_LINE = 0.15  # ...at most this share of its length thick...
BEYOND_LINE = 0.1  # ...under (over) it lies at most this share of the other ink...
OVERHANG = 0.1  # ...and it reaches past the other ink by this share of its width on both sides, or lies apart from it
EMPTY_FRAME = 0.8  # an empty box's lines run straight along this share of its sides at least (a round ០'s do not)


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


def line_runs(mask: np.ndarray, shortest: float) -> np.ndarray:
    """For every ink pixel, the length of the longest nearly horizontal run of ink through it (0 elsewhere),
    when some run may be `shortest` long; all 0 when no band of rows as high as the most tilted line holds
    that many ink pixels (a cheap bound)."""
    height, width = mask.shape
    band = min(height, int(np.ceil(width * LINE_TILTS.max())) + 3)
    if not np.isfinite(shortest) or np.convolve(mask.sum(axis=1), np.ones(band, int), "valid").max() < shortest:
        return np.zeros(mask.shape, int)
    grown = ndimage.binary_dilation(mask, np.ones((3, 1), bool))  # tolerates the steps of a tilted line
    longest = np.zeros(mask.shape, int)
    tilts = {tuple(row_shifts(width, tilt)) for tilt in LINE_TILTS}  # in narrow images, some tilts shift alike
    for shifts in map(np.array, tilts):  # straighten each tilt by shifting columns, then measure horizontal runs
        straight = shear_rows(grown.T, shifts).T
        np.maximum(longest, unshear_rows(run_lengths(straight, 1).T, shifts, height).T, out=longest)
    return np.where(mask, longest, 0)


def joined_at_both_ends(lines: np.ndarray, across: np.ndarray) -> np.ndarray:
    """The vertical `lines` whose top and bottom ends touch (within 2 pixels) the horizontal `across` lines."""
    near = ndimage.binary_dilation(across, np.ones((5, 5), bool))
    pieces, _ = ndimage.label(lines, np.ones((3, 3), bool))
    joined = np.zeros_like(lines)
    for index, (rows, cols) in enumerate(ndimage.find_objects(pieces)):
        piece = pieces[rows, cols] == index + 1
        if near[rows.start, cols][piece[0]].any() and near[rows.stop - 1, cols][piece[-1]].any():
            joined[rows, cols] |= piece
    return joined


def frame_lines(rows: np.ndarray, columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The horizontal and vertical lines (among `rows`, `columns`) that join at their ends into boxes."""
    sides = joined_at_both_ends(columns, rows)
    while True:  # sides joining tops joining sides..., until none is dropped
        tops = joined_at_both_ends(rows.T, sides.T).T
        kept = joined_at_both_ends(sides, tops)
        if np.array_equal(kept, sides):
            return tops, sides
        sides = kept


def holds_writing(mask: np.ndarray, box: np.ndarray) -> bool:
    """Whether the middle half of the `box` lines holds other ink, FRAME_CONTENT of theirs or more."""
    rows_of, cols_of = ndimage.find_objects(box.astype(np.int8))[0]
    height, width = rows_of.stop - rows_of.start, cols_of.stop - cols_of.start
    middle = (mask & ~box)[rows_of.start + height // 4 : rows_of.stop - height // 4,
                           cols_of.start + width // 4 : cols_of.stop - width // 4]
    return middle.sum() >= FRAME_CONTENT * box.sum()


def box_lines(mask: np.ndarray, rows: np.ndarray, columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The horizontal and vertical lines (among `rows`, `columns`) of boxes drawn around other ink."""
    tops, sides = frame_lines(rows, columns)
    if tops.any() and sides.any() and holds_writing(mask, tops | sides):
        return tops, sides
    return np.zeros_like(tops), np.zeros_like(sides)


def frame_sizes(shape: tuple[int, int], top: float = FRAME_TOP, side: float = FRAME_SIDE) -> tuple[float, float]:
    """How long a box's top (bottom) and sides are at least, in an image of this shape: these shares of its
    width and height, and SHORTEST_LINE."""
    height, width = shape
    return max(top * width, SHORTEST_LINE), max(side * height, SHORTEST_LINE)


def far_apart(sides: np.ndarray, top: float) -> bool:
    """Whether the side lines found lie at least nearly a box's top apart (two sides of one box)."""
    columns = np.flatnonzero(sides.any(axis=0))
    return columns.size > 1 and np.ptp(columns) >= 0.9 * top


def empty_box(mask: np.ndarray) -> bool:
    """Whether ink pixels `mask`, cropped to the ink, hold a box (as `remove_ruling` finds them) with nothing
    written in it: an empty form field, which `remove_ruling` keeps (a ០ or ៤ may be written as boxy)."""
    rows, columns = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return False
    mask = mask[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]
    top, side = frame_sizes(mask.shape, EMPTY_FRAME, EMPTY_FRAME)
    sides = line_runs(mask.T, side).T >= side
    if not far_apart(sides, top):
        return False
    tops, sides = frame_lines(line_runs(mask, top) >= top, sides)
    return bool(tops.any() and sides.any()) and not holds_writing(mask, tops | sides)


def lines_off_the_writing(mask: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The horizontal lines among `rows` drawn under or over the writing (an underline, a form's line)."""
    pieces, _ = ndimage.label(rows, np.ones((3, 3), bool))
    thickness = run_lengths(mask, 0)
    found = np.zeros_like(rows)
    for index, (line_rows, line_cols) in enumerate(ndimage.find_objects(pieces)):
        line = pieces == index + 1
        rest_rows, rest_cols = np.nonzero(mask & ~line)
        if rest_rows.size == 0 or np.median(thickness[line]) > THIN_LINE * (line_cols.stop - line_cols.start):
            continue
        middle = (line_rows.start + line_rows.stop - 1) / 2
        under_or_over = min((rest_rows > middle).mean(), (rest_rows < middle).mean()) <= BEYOND_LINE
        overhang = OVERHANG * (rest_cols.max() - rest_cols.min() + 1)
        past = line_cols.start <= rest_cols.min() - overhang and line_cols.stop - 1 >= rest_cols.max() + overhang
        apart = not (ndimage.binary_dilation(line, np.ones((3, 3), bool)) & mask & ~line).any()
        if under_or_over and (past or apart):
            found |= line
    return found


def erase_lines(ink: np.ndarray, mask: np.ndarray, lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Erase the thin horizontal `lines` from `ink` (`mask`: its ink pixels), keeping the strokes that
    cross them; returns the ink and its remaining ink pixels."""
    lines = lines & mask
    if not lines.any():
        return ink, mask
    vertical = run_lengths(mask, 0)
    line_only = lines & (vertical <= np.median(vertical[lines]) + 1)  # thicker runs are crossing strokes
    erase = ndimage.binary_dilation(line_only, np.ones((3, 1), bool)) & ~(mask & ~line_only)
    return np.where(erase, 0.0, ink).astype(np.float32), mask & ~erase


def remove_ruling(ink: np.ndarray, mask: np.ndarray, paper: bool = True) -> np.ndarray:
    """Ink map and its ink pixels -> the ink without boxes drawn around the writing (form fields), lines
    drawn under or over it (an underline, a form's line) and, with `paper`, long, thin, nearly horizontal
    lines across the image (ruled paper) and nearly vertical lines through the whole image (squared
    paper). Single digits keep paper lines: a tightly cropped digit's own strokes can be as long and
    straight as they are. Strokes crossing a line are kept."""
    height, width = ink.shape
    box_row, box_column = frame_sizes(ink.shape)
    ruled_row, ruled_column = max(0.5 * width, min(1.2 * height, 0.9 * width)), COLUMN_LINE * height
    if not paper:
        ruled_row = ruled_column = np.inf
    inked = np.flatnonzero(mask.any(axis=0))
    underline = max(SHORTEST_LINE, UNDERLINE * (np.ptp(inked) if inked.size else 0))  # the shortest line sought
    down = line_runs(mask.T, min(box_column, ruled_column)).T
    sides = down >= box_column
    across = line_runs(mask, underline)
    rows, columns = box_lines(mask, across >= box_row, sides) if far_apart(sides, box_row) else (np.zeros_like(mask),) * 2
    ruled = (across >= ruled_row) | lines_off_the_writing(mask, across >= underline)
    ink, mask = erase_lines(ink, mask, rows | ruled)
    return erase_lines(ink.T, mask.T, (columns | (down >= ruled_column)).T)[0].T
