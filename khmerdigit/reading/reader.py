"""Reading a whole handwritten number: find its digits, classify each, report confidences and boxes.

The ink is cleaned and deslanted (`khmerdigit.reading.segment.clean_ink`). The line reader
(`khmerdigit.reading.line_reader`) counts the digits of the whole number. When the separate pieces of
ink are each one digit and the count agrees (the common case), all are classified in one batch.
Otherwise, or when the line reader reads other digits than the pieces, the ink may hold touching
digits, and cuts are searched (the surest reading wins): each candidate digit (the ink
between two cuts from `khmerdigit.reading.segment`) goes through the one shared `preprocess` and the
classifier, and the whole-digit verifier (`khmerdigit.reading.verifier`) judges whether it is one
whole digit. The split is the one whose digits are most likely whole, most confidently classified
and most digit-like in shape, and whose digits the line reader finds likely: splits with as many
digits as it counts, one fewer and one more compete (its count is weighed, not followed; when it
counts more digits than there are pieces of ink, each narrow enough to be one digit, a search that
ignores it competes too).
The label of a digit the classifier is unsure of also weighs the line reader's probabilities, at the
power `LINE_WEIGHT`, when it reads as many digits (at full weight they read unseen writers' numbers
worse). A digit's confidence is the classifier's probability of its label; in a number of several digits
that the line reader read as many of, calibrated on both readers' probabilities of that label
(`khmerdigit.reading.calibration`), since a digit both read alike is more often right than the
classifier says alone. A lone digit keeps the classifier's probability, as `predict` gives it (the
calibration was fitted on numbers of two or more digits). A number read unsure whose baseline looks
tilted is read again levelled (`khmerdigit.reading.level`), and the surer reading is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import groupby
from pathlib import Path
from typing import Optional

import numpy as np
from scipy import ndimage

from khmerdigit import KHMER_GLYPHS, defaults
from khmerdigit.fileio import display_path
from khmerdigit.reading.calibration import AgreementCalibration
from khmerdigit.reading.level import baseline_tilt, levelled
from khmerdigit.reading.line_reader import LineReader, LineReading
from khmerdigit.reading.segment import (
    DATE_SLASHES,
    MAX_WIDTH,
    Box,
    CleanInk,
    Segmentation,
    best_split,
    best_split_of_length,
    clean_ink,
    digit_crop,
    mask_box,
    segment,
)
from khmerdigit.reading.verifier import Verifier
from khmerdigit.runtime.classifier import Classifier
from khmerdigit.runtime.preprocess import ImageSource, as_gray, preprocess_ink


@dataclass(frozen=True)
class SplitWeights:
    """A candidate digit's score: these weights times the classifier's log-confidence, the verifier's
    log-probability that it is one whole digit and its shape score, plus a bonus for each digit (else
    every extra term, always negative, favours reading fewer digits). Defaults: from
    benchmarks/split_weights.py on synthetic digits."""

    confidence: float = 2.0
    whole: float = 1.0
    shape: float = 0.25
    digit_bonus: float = 1.0
    line_digit: float = 2.0  # with the line reader: times the classifier's log-probability of its digit


@dataclass(frozen=True)
class Candidates:
    """Every candidate digit of a segmented number, with what the classifier, the verifier and its shape say."""

    segmentation: Segmentation
    groups: list[tuple[int, int]]
    probabilities: np.ndarray  # (candidates, classes)
    whole: np.ndarray  # P(one whole digit) for each candidate
    shape: np.ndarray  # shape score of each candidate

    def scores(self, weights: SplitWeights) -> np.ndarray:
        """Each candidate's score as one digit of a split."""
        return (weights.confidence * np.log(np.maximum(self.probabilities.max(axis=1), 1e-9))
                + weights.whole * np.log(np.maximum(self.whole, 1e-9)) + weights.shape * self.shape
                + weights.digit_bonus)

    def best_split(self, weights: SplitWeights) -> list[int]:
        """Indices of the candidates, left to right, of the best-scoring split of the number."""
        scores = self.scores(weights)
        index = {group: i for i, group in enumerate(self.groups)}
        chain = best_split(self.segmentation, lambda a, b: float(scores[index[a, b]]), self.groups)
        return [index[group] for group in chain]

    def best_split_of_length(self, weights: SplitWeights, length: int,
                             digits: Optional[list[int]] = None) -> Optional[list[int]]:
        """Like `best_split`, with exactly `length` digits; given `digits` (the line reader's reading, as
        many), each candidate is also scored by the classifier's log-probability of the digit at its
        place. None if no split has that many."""
        scores = np.repeat(self.scores(weights)[:, None], length, axis=1)
        if digits is not None:
            scores += weights.line_digit * np.log(np.maximum(self.probabilities[:, digits], 1e-9))
        index = {group: i for i, group in enumerate(self.groups)}
        chain = best_split_of_length(self.segmentation, lambda a, b, k: float(scores[index[a, b], k]), self.groups,
                                     length)
        return None if chain is None else [index[group] for group in chain]

    def splits(self, weights: SplitWeights, digits: list[int]) -> list[list[int]]:
        """The best split; given the line reader's `digits`, also the best splits with as many digits
        (scored with them, and without), one fewer and one more; each distinct split once."""
        splits = [self.best_split(weights)]
        if digits:
            lengths = range(max(1, len(digits) - 1), len(digits) + 2)
            splits += [self.best_split_of_length(weights, len(digits), digits),
                       *(self.best_split_of_length(weights, length) for length in lengths)]
        return list({tuple(split): split for split in splits if split is not None}.values())


def score_candidates(segmentation: Segmentation, groups: list[tuple[int, int]], classifier: Classifier,
                     verifier: Verifier) -> Candidates:
    """Classify every candidate digit (a, b) in `groups` (through the shared `preprocess_ink`) and ask the verifier."""
    crops = np.stack([preprocess_ink(segmentation.crop(a, b), classifier.config) for a, b in groups])
    return Candidates(segmentation, groups, classifier.probabilities(crops),
                      verifier.whole_probabilities(segmentation, groups),
                      np.array([segmentation.shape_score(a, b) for a, b in groups]))


@dataclass(frozen=True)
class DigitReading:
    """One digit of a number: its label 0-9, its confidence (the classifier's probability, in a number
    of which the line reader read as many digits calibrated on both readers': `calibrated`) and its box."""

    label: int
    confidence: float
    box: Box
    uncertain: bool

    @property
    def glyph(self) -> str:
        return KHMER_GLYPHS[self.label]

    def to_dict(self) -> dict:
        return {"digit": self.label, "glyph": self.glyph, "confidence": round(self.confidence, 6),
                "box": self.box.to_dict(), "uncertain": self.uncertain}


@dataclass(frozen=True)
class NumberReading:
    """A number read from one image; boxes are in the pixels of the image as loaded (at most 512 px a side)."""

    source: str
    digits: tuple[DigitReading, ...]
    threshold: float
    image_size: tuple[int, int]  # width, height
    line_reading: Optional[str] = None  # the line reader's own reading (Arabic digits), None without it
    warning: Optional[str] = None  # what about the image makes the reading doubtful (several lines of writing)

    @property
    def khmer(self) -> str:
        return "".join(d.glyph for d in self.digits)

    @property
    def arabic(self) -> str:
        return "".join(str(d.label) for d in self.digits)

    @property
    def confidence(self) -> float:
        """How likely the whole number is read right: the product of its digits' confidences."""
        return product(self.digits)

    @property
    def uncertain(self) -> bool:
        """True if the number's confidence is below the threshold (so is any digit's below it), if the
        line reader reads other digits (two readers disagreeing is where most sure-looking misreads are), or
        if there is a `warning`."""
        return self.confidence < self.threshold or self.line_disagrees or self.warning is not None

    @property
    def line_disagrees(self) -> bool:
        """True if the line reader read other digits than these."""
        return self.line_reading is not None and self.line_reading != self.arabic

    def to_dict(self) -> dict:
        return {"file": self.source, "khmer": self.khmer, "arabic": self.arabic,
                "confidence": round(self.confidence, 6), "uncertain": self.uncertain, "threshold": self.threshold,
                "line_reader": self.line_reading, "warning": self.warning,
                "image_size": list(self.image_size), "digits": [d.to_dict() for d in self.digits]}


LINE_WEIGHT = 0.5  # the line reader's say in a digit's label (chosen on train/ and synthetic numbers)
SINGLE_DIGIT_WIDTH = 1.25  # when every piece is this narrow, a line reader counting more digits is not followed
HOLES_PER_DIGIT = 10  # a digit's ink encloses a few loops, and pinholes in thick strokes; noise 40 and more
DASH_LENGTH = 4.0  # a dash is this many times longer than its ink is high in any column (no digit is)
SMALLEST_DIGIT = 4  # pixels: ink lower than this is no writing (what is left of an erased line, a dot)


def read_number(source: ImageSource, classifier: Classifier, verifier: Verifier,
                threshold: float = defaults.THRESHOLD, weights: SplitWeights = SplitWeights(),
                line_reader: Optional[LineReader] = None) -> NumberReading:
    """Read the handwritten number (one line of digits, any length) in an image. When its separate pieces
    of ink are each one digit, they are read at once (`read_pieces`); otherwise, where digits may touch,
    or when the line reader reads other digits (without it: when that reading is unsure), cuts are
    searched too (`read_by_cuts`) and the surest reading wins (`surety`). A number read unsure whose
    baseline looks tilted is read levelled too (`khmerdigit.reading.level`), and the surer reading of the
    two is kept. Ink in several lines, one above the other, is read all the same, with a warning (so
    flagged uncertain)."""
    gray = as_gray(source)
    name = display_path(source) if isinstance(source, (str, Path)) else "<image>"
    clean = clean_ink(gray)
    reading = read_clean(gray, clean, classifier, verifier, threshold, weights, line_reader)
    slope = baseline_tilt(clean) if reading.digits and reading.uncertain else 0.0  # noise and paper stay unread
    if slope:
        turned, box_in_image = levelled(gray, slope)
        level = read_clean(turned, clean_ink(turned), classifier, verifier, threshold, weights, line_reader)
        if surety(level) > surety(reading):
            digits = tuple(replace(digit, box=box_in_image(digit.box)) for digit in level.digits)
            reading = replace(level, digits=digits)
    if clean.lines > 1:
        reading = replace(reading, warning=f"{clean.lines} lines of writing: read reads one line per image (crop "
                                           "each line)")
    elif clean.slashes >= DATE_SLASHES and reading.digits:
        reading = replace(reading, warning=f"left out {clean.slashes} slashes: the digits between them are read as "
                                           "one number (a date? crop each part)")
    elif clean.slashes and reading.digits:
        reading = replace(reading, warning="a slash? a straight stroke between the digits was read as part of the "
                                           "number (if it is a slash, crop each side)")
    elif reading.digits and clean.frame_only:
        reading = replace(reading, warning="an empty box? the ink is a printed frame with nothing written in it "
                                           "(or a digit written as boxy as one)")
    return replace(reading, source=name, image_size=(gray.shape[1], gray.shape[0]))


def read_clean(gray: np.ndarray, clean: CleanInk, classifier: Classifier, verifier: Verifier, threshold: float,
               weights: SplitWeights, line_reader: Optional[LineReader]) -> NumberReading:
    """`read_number` on an image as it is, given its `clean_ink`: boxes in the image's pixels, no source name.
    The pieces' reading stands unless the line reader reads other digits (without it: unless it is unsure);
    then cuts are searched too, and the surest reading wins."""
    size = (gray.shape[1], gray.shape[0])
    if not clean.mask.any() or not looks_like_writing(clean):
        return NumberReading("", (), threshold, size)
    line = line_reader.read(clean) if line_reader is not None else None
    pieces = read_pieces(clean, classifier, threshold, line)
    readings = [] if pieces is None else [finished(pieces, line, line_reader, threshold, size)]
    disputed = pieces is not None and len(pieces) > 1 and (readings[0].line_disagrees if line is not None
                                                         else readings[0].uncertain)
    if pieces is None or disputed:  # cuts may find digits the pieces hide
        candidates = cut_candidates(gray, clean, classifier, verifier)  # scored once for every guide
        for guide in cut_guides(clean, line):
            digits = read_by_cuts(candidates, threshold, weights, guide)
            readings.append(finished(digits, line, line_reader, threshold, size))
    return max(readings, key=surety)


def finished(digits: list[DigitReading], line: Optional[LineReading], line_reader: Optional[LineReader],
             threshold: float, size: tuple[int, int]) -> NumberReading:
    """The number read as these digits, with their confidences calibrated on the line reader's reading
    when it read as many digits."""
    if line is None:
        return NumberReading("", tuple(digits), threshold, size)
    if line_reader.calibration is not None and len(line.digits) == len(digits) > 1:
        digits = calibrated(digits, line, line_reader.calibration, threshold)
    return NumberReading("", tuple(digits), threshold, size, "".join(str(label) for label in line.digits))


def surety(reading: NumberReading) -> tuple[bool, float]:
    """How to rank two readings of one number: one not flagged uncertain first, then the more confident."""
    return not reading.uncertain, reading.confidence


def cut_guides(clean: CleanInk, line: Optional[LineReading]) -> list[Optional[LineReading]]:
    """The line readings a cut search follows: the line reader's, or none without it; both when it counts
    more digits than there are pieces, each narrow enough for one (`overcounts`)."""
    if line is None:
        return [None]
    return [None, line] if overcounts(clean, line.digits) else [line]


def calibrated(digits: list[DigitReading], line: LineReading, calibration: AgreementCalibration,
               threshold: float) -> list[DigitReading]:
    """The digits with their confidences calibrated on the line reader's probabilities of their labels
    (it read as many digits)."""
    labels = [digit.label for digit in digits]
    confidences = calibration.confidence(np.array([digit.confidence for digit in digits]),
                                         line.probabilities[np.arange(len(labels)), labels])
    return [replace(digit, confidence=float(c), uncertain=float(c) < threshold)
            for digit, c in zip(digits, confidences)]


def product(digits: list[DigitReading]) -> float:
    """The confidence of a number read as these digits."""
    return float(np.prod([digit.confidence for digit in digits])) if digits else 0.0


def overcounts(clean: CleanInk, digits: list[int]) -> bool:
    """Whether the line reader reads more digits than there are pieces of ink, each narrow enough to be one
    digit: on writers it never saw it often reads one wide digit as two (៩ as ៩៩), which the cut search
    would then follow."""
    narrow = all(clean.holds_one_digit(blob, SINGLE_DIGIT_WIDTH) for blob in clean.blobs)
    return narrow and len(digits) > len(clean.blobs)


def looks_like_writing(clean: CleanInk) -> bool:
    """False for noise and paper texture (ink full of holes, far more than digits enclose), for dashes
    alone (a form's "nothing here") and for ink too low to be a digit."""
    _, regions = ndimage.label(~clean.mask)
    return (regions - 1 <= HOLES_PER_DIGIT * (len(clean.blobs) + 2) and not all(map(is_a_dash, clean.blobs))
            and mask_box(clean.mask).height >= SMALLEST_DIGIT)


def is_a_dash(blob: np.ndarray) -> bool:
    """A stroke across, straight or a little tilted: one run of ink in (nearly) every column, spanning
    DASH_LENGTH times less than the stroke is long, rising less than half its length."""
    box = mask_box(blob)
    columns = blob[box.top:box.bottom, box.left:box.right].astype(np.int8)
    inked = columns.any(axis=0)
    runs = (np.diff(columns, axis=0) == 1).sum(axis=0) + columns[0]
    first = columns.argmax(axis=0)[inked]
    last = box.height - columns[::-1].argmax(axis=0)[inked]
    return (box.width >= DASH_LENGTH * (last - first).max() and box.height <= 0.5 * box.width
            and (runs[inked] == 1).mean() >= 0.9)


def read_pieces(clean: CleanInk, classifier: Classifier, threshold: float,
                line: Optional[LineReading]) -> Optional[list[DigitReading]]:
    """Each separate piece of ink (`CleanInk.blobs`) as one digit, classified in one batch; all the pieces
    as one digit when the line reader reads one and they fit in one. None (search cuts instead) when the
    line reader counts fewer digits than pieces (a digit's strokes may lie apart), unless it merely read
    a repeated digit once (`repeats_merged`), or when a piece is wide enough to hold two digits and
    neither the line reader's count nor, for a lone piece it does not read as several digits, the
    classifier says it is one. A lone piece accepted here is never split."""
    blobs = clean.blobs
    count = len(line.digits) if line is not None else None
    if count == 1 and len(blobs) > 1 and clean.holds_one_digit(clean.mask, MAX_WIDTH):
        blobs = [clean.mask]  # the line reader sees one digit, and all the ink fits in one: its pieces are one
    masks = [clean.image_mask(blob) for blob in blobs]
    crops = np.stack([preprocess_ink(digit_crop(clean.ink, mask), classifier.config) for mask in masks])
    probabilities = classifier.probabilities(crops)
    if count is not None and count < len(blobs) and not repeats_merged(probabilities.argmax(axis=1), line.digits):
        return None
    narrow = all(clean.holds_one_digit(blob) for blob in blobs)
    counted = count == len(blobs) and all(clean.holds_one_digit(blob, MAX_WIDTH) for blob in blobs)
    sure_lone = (len(blobs) == 1 and clean.holds_one_digit(blobs[0], MAX_WIDTH)
                 and probabilities.max() >= threshold
                 and (line is None or count <= 1 or overcounts(clean, line.digits)))
    if not (narrow or counted or sure_lone):
        return None
    return digit_readings(probabilities, [mask_box(mask) for mask in masks], threshold,
                          line.probabilities if count == len(blobs) else None)


def repeats_merged(labels: Sequence[int], line_digits: list[int]) -> bool:
    """Whether the line reader's digits are these labels with each run of the same digit read once (CTC
    merges a repeated digit unless it sees a gap between the two)."""
    return len(labels) > len(line_digits) and [label for label, _ in groupby(labels)] == line_digits


def cut_candidates(gray: np.ndarray, clean: CleanInk, classifier: Classifier,
                   verifier: Verifier) -> Optional[Candidates]:
    """Every candidate digit between the number's cuts, scored (`score_candidates`); None if there is none."""
    segmentation = segment(gray, clean)
    groups = segmentation.groups()
    return score_candidates(segmentation, groups, classifier, verifier) if groups else None


def read_by_cuts(candidates: Optional[Candidates], threshold: float, weights: SplitWeights,
                 line: Optional[LineReading]) -> list[DigitReading]:
    """The digits of the best split of the number's cuts (its `cut_candidates`). With the line reader's
    reading (`line`), the best splits with as many digits as it reads, one fewer and one more compete with
    the best of any length: each is scored by its digits' scores plus how likely the line reader finds its
    digits (`LineReading.log_likelihood`), so a line reader miscounting a stranger's digits does not force
    a digit to be split or two to be merged when the rest disagrees."""
    if candidates is None:
        return []
    segmentation = candidates.segmentation
    scores = candidates.scores(weights)
    best_fit, best_digits = -np.inf, []
    for chain in candidates.splits(weights, line.digits if line is not None else []):
        boxes = [segmentation.box(*candidates.groups[index]) for index in chain]
        same_count = line is not None and len(line.digits) == len(chain)
        digits = digit_readings(candidates.probabilities[chain], boxes, threshold,
                                line.probabilities if same_count else None)
        fit = float(scores[chain].sum()) + (line.log_likelihood([d.label for d in digits]) if line is not None else 0)
        if fit > best_fit:
            best_fit, best_digits = fit, digits
    return best_digits


def digit_readings(probabilities: np.ndarray, boxes: list[Box], threshold: float,
                   line_probabilities: Optional[np.ndarray] = None) -> list[DigitReading]:
    """One digit for each row of classifier probabilities: its most likely label, with the classifier's
    probability of it as its confidence. Given the line reader's probabilities for the same digits (it
    read as many), the label of a digit the classifier is unsure of (below the threshold) is the one
    most likely to both: the classifier's probability times the line reader's to the power LINE_WEIGHT.
    The confidence stays the classifier's, so a label the line reader chose against it is uncertain (until
    `calibrated` weighs the line reader's probability too)."""
    combined = probabilities if line_probabilities is None else probabilities * line_probabilities**LINE_WEIGHT
    labels = np.where(probabilities.max(axis=1) >= threshold, probabilities.argmax(axis=1), combined.argmax(axis=1))
    confidences = probabilities[np.arange(len(labels)), labels]
    return [DigitReading(int(label), float(confidence), box, float(confidence) < threshold)
            for label, confidence, box in zip(labels, confidences, boxes)]


@dataclass
class NumberReader:
    """Everything `read` needs, loaded once: the digit classifier, the verifier and the line reader."""

    classifier: Classifier
    verifier: Verifier
    line_reader: Optional[LineReader] = None
    threshold: float = defaults.THRESHOLD

    def read(self, source: ImageSource, threshold: Optional[float] = None) -> NumberReading:
        """Read the handwritten number in one image (see `read_number`), at this reader's threshold or `threshold`."""
        return read_number(source, self.classifier, self.verifier, self.threshold if threshold is None else threshold,
                           line_reader=self.line_reader)


def load_number_reader(model: Optional[Path] = None, run: Optional[Path] = None, verifier: Optional[Path] = None,
                       line_model: Optional[Path] = None, use_line_reader: bool = True,
                       threshold: float = defaults.THRESHOLD) -> NumberReader:
    """Load the reader's models: the bundled ones unless files are given."""
    from khmerdigit.reading.line_reader import load_line_reader
    from khmerdigit.reading.verifier import load_verifier
    from khmerdigit.runtime.classifier import load_classifier

    return NumberReader(load_classifier(model, run), load_verifier(verifier),
                        load_line_reader(line_model) if use_line_reader else None, threshold)
