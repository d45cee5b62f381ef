"""The line reader: a second opinion on a whole number, read at once rather than digit by digit.

A small convolutional network reads the number's cleaned ink, scaled to a fixed height, as a
sequence of columns and says, for each column, which digit it shows or none; the digits are the
runs of columns (connectionist temporal classification, CTC). It needs no cuts, so it can count
and read digits that touch or reach under each other, where the cuts of `khmerdigit.reading.segment`
fail; `read` uses its reading to choose among the splits the cuts allow. Its examples come from
composed numbers (`khmerdigit.data.compose`); training it: `khmerdigit.train.line`. No TensorFlow
here: worker processes import this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple, Optional

import numpy as np
from PIL import Image

from khmerdigit.reading.calibration import AgreementCalibration
from khmerdigit.reading.segment import CleanInk, mask_box, soft_ink
from khmerdigit.runtime.registry import LINE, LINE_MARGIN, checked_metadata, model_file
from khmerdigit.runtime.runners import model_runner

LINE_INPUT = LINE.input_shape
WIDEST_GAP = 0.6  # blank stretches between digits are cut to this many ink heights: the line reader learned
# from gaps up to about 0.6 digit heights, and wider ones (digits spaced out, as on a form) made it see digits there
BLANK = 0.05  # a column with no ink stronger than this is blank


def line_image(clean: CleanInk) -> np.ndarray:
    """What the line reader sees: the number's cleaned ink (specks and ruling removed), deslanted, its wide
    gaps shortened, with a margin, scaled to the input height and left-aligned on a blank line of the input
    width (squeezed if longer)."""
    height, width = LINE_INPUT[:2]
    line = np.zeros((height, width), np.float32)
    if not clean.mask.any():
        return line
    box = mask_box(clean.mask)
    pad = round(LINE_MARGIN * box.height)
    ink = shortened_gaps(soft_ink(clean.upright, clean.mask, box), round(WIDEST_GAP * box.height))
    ink = np.pad(ink, pad)
    scaled = min(width, max(1, round(ink.shape[1] * height / ink.shape[0])))
    image = Image.fromarray(ink.astype(np.float32), "F").resize((scaled, height), Image.Resampling.BILINEAR)
    line[:, :scaled] = np.clip(np.asarray(image), 0, 1)
    return line


def shortened_gaps(ink: np.ndarray, longest: int) -> np.ndarray:
    """The ink with every run of blank columns longer than `longest` cut to `longest` columns."""
    keep, run = [], 0
    for blank in ink.max(axis=0) <= BLANK:
        run = run + 1 if blank else 0
        keep.append(run <= longest)
    return ink[:, keep]


def best_path(probabilities: np.ndarray) -> tuple[list[int], np.ndarray]:
    """Greedy CTC decoding of (columns, 1 + classes) probabilities, class 0 = no digit: the digits, and
    for each the probabilities of the ten digits at the column of its run where it is most likely."""
    best = probabilities.argmax(axis=1)
    digits: list[int] = []
    peaks: list[int] = []
    previous = 0
    for column, symbol in enumerate(best):
        if symbol and symbol == previous:
            if probabilities[column, symbol] > probabilities[peaks[-1], symbol]:
                peaks[-1] = column
        elif symbol:
            digits.append(int(symbol) - 1)
            peaks.append(column)
        previous = symbol
    shares = probabilities[np.array(peaks, int), 1:]
    return digits, shares / np.maximum(shares.sum(axis=1, keepdims=True), 1e-9)


def ctc_log_likelihood(columns: np.ndarray, digits: Sequence[int]) -> float:
    """log P(digits | columns) under CTC: the (columns, 1 + classes) probabilities, class 0 = no digit,
    summed over every way the columns can spell these digits (the forward algorithm)."""
    log = np.log(np.maximum(columns, 1e-12))
    symbols = np.zeros(2 * len(digits) + 1, int)  # no digit, first digit, no digit, second digit, ...
    symbols[1::2] = np.asarray(digits, int) + 1
    may_skip = np.zeros(len(symbols), bool)  # a digit may follow the one before it without a gap, unless equal
    may_skip[3::2] = symbols[3::2] != symbols[1:-2:2]

    def shifted(alpha: np.ndarray, by: int) -> np.ndarray:
        return np.concatenate([np.full(by, -np.inf), alpha])[: len(alpha)]

    alpha = np.full(len(symbols), -np.inf)
    alpha[:2] = log[0, symbols[:2]]
    for row in log[1:]:
        skip = np.where(may_skip, shifted(alpha, 2), -np.inf)
        alpha = np.logaddexp(np.logaddexp(alpha, shifted(alpha, 1)), skip) + row[symbols]
    return float(np.logaddexp.reduce(alpha[-2:]))


class LineReading(NamedTuple):
    """What the line reader reads: the digits, for each its probabilities of the ten digits, and the
    network's probabilities column by column (to weigh other readings)."""

    digits: list[int]
    probabilities: np.ndarray
    columns: np.ndarray

    def log_likelihood(self, digits: Sequence[int]) -> float:
        """How likely the line reader finds the number to be these digits (log probability)."""
        return ctc_log_likelihood(self.columns, digits)


class LineReader:
    """A line-reader model (.keras or .tflite, with its metadata, which may hold the calibration of the
    digits it confirms or contradicts: `khmerdigit.reading.calibration`)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.metadata = checked_metadata(self.path, LINE)
        self.runner = model_runner(self.path)
        calibration = self.metadata.get("calibration")
        self.calibration = AgreementCalibration.from_dict(calibration) if calibration else None

    def read(self, clean: CleanInk) -> LineReading:
        """The digits of the number's cleaned ink as the line reader reads them (see `best_path`)."""
        columns = self.runner(line_image(clean)[None, ..., None])[0]
        return LineReading(*best_path(columns), columns)


def load_line_reader(path: Optional[Path] = None) -> LineReader:
    """Load a line-reader model, by default the bundled one."""
    return LineReader(model_file(LINE, path))
