"""A number written or photographed at a tilt: finding its baseline's tilt and levelling the image.

Read tilted, a number's digits drift up or down across the line, which the line reader and the cuts
handle badly (clean 4-digit `valid/` numbers turned 5°: 65 % read right, against 92 % level). The
tilt is the vertical shear that makes the ink's row profile sharpest (the digits' tops and bottoms
line up); `khmerdigit.reading.reader.read_number` reads a number that reads unsure as it is and looks
tilted levelled too, and keeps the surer reading, so a level number with uneven digits loses little.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy import ndimage

from khmerdigit.reading.segment import Box, CleanInk, profile_sharpness

TILTS = np.tan(np.deg2rad(np.arange(-20.0, 20.01, 1.0)))  # baseline slopes tried (rows per column)
LEAST_TILT = np.tan(np.deg2rad(2.5))  # a number tilted less is read as it is...
SHARPER = 1.1  # ...and so is one whose row profile levelled is not this much sharper
LINE_LENGTH = 2.0  # a line of ink shorter than this many digit heights (one digit) has no baseline to level


def baseline_tilt(clean: CleanInk) -> float:
    """The slope of the number's baseline in rows per column (positive: falling to the right), or 0 when
    it looks level or is too short to tell."""
    rows, cols = np.nonzero(clean.mask)
    if cols.size == 0 or np.ptp(cols) < LINE_LENGTH * clean.digit_height:
        return 0.0
    columns = clean.mask[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1].T
    scores = np.array([profile_sharpness(columns, -slope) for slope in TILTS])  # columns moved up, rows summed
    best = int(np.argmax(scores))
    level = scores[np.argmin(np.abs(TILTS))]
    return float(TILTS[best]) if abs(TILTS[best]) >= LEAST_TILT and scores[best] >= SHARPER * level else 0.0


def levelled(gray: np.ndarray, slope: float) -> tuple[np.ndarray, Callable[[Box], Box]]:
    """The image turned so that a baseline of `slope` is level (corners filled with the median shade), and
    a function taking a box in the turned image to the box around it in `gray`."""
    angle = np.arctan(slope)
    turn = np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]])  # (row, col) out -> in
    height, width = gray.shape
    shape = (round(height * np.cos(angle) + width * abs(np.sin(angle))),
             round(width * np.cos(angle) + height * abs(np.sin(angle))))
    centre_in, centre_out = (np.array(gray.shape) - 1) / 2, (np.array(shape) - 1) / 2
    offset = centre_in - turn @ centre_out
    turned = ndimage.affine_transform(gray, turn, offset=offset, output_shape=shape, order=1, mode="constant",
                                      cval=float(np.median(gray)))

    def box_in_image(box: Box) -> Box:
        corners = np.array([[box.top, box.left], [box.top, box.right], [box.bottom, box.left],
                            [box.bottom, box.right]], float)
        rows, cols = (corners @ turn.T + offset).T
        return Box(int(np.clip(np.floor(cols.min()), 0, width)), int(np.clip(np.floor(rows.min()), 0, height)),
                   int(np.clip(np.ceil(cols.max()), 0, width)), int(np.clip(np.ceil(rows.max()), 0, height)))

    return turned.astype(np.float32), box_in_image
