"""Reading a whole handwritten number: find its digits, classify each, report confidences and boxes.

Each candidate digit (the ink between two cuts from `khmerdigit.segment`) goes through the one
shared `preprocess` and the classifier, and the whole-digit verifier (`khmerdigit.verifier`) judges
whether it is one whole digit. The split of the number into digits is the one whose digits are
most likely whole, most confidently classified and most digit-like in shape. With the line reader
(`khmerdigit.line_reader`), which reads the whole number without cuts, the split must have as many
digits as it reads, each scored also by how likely the classifier finds the digit the line reader
put there; each digit's label and confidence then come from both models' probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from khmerdigit import KHMER_GLYPHS
from khmerdigit.fileio import atomic_path, display_path
from khmerdigit.line_reader import LineReader
from khmerdigit.predictor import Classifier
from khmerdigit.preprocess import ImageSource, as_gray, preprocess
from khmerdigit.segment import Box, Segmentation, best_split, best_split_of_length, segment
from khmerdigit.verifier import Verifier

DEFAULT_THRESHOLD = 0.9  # digits the classifier is less sure of than this are marked uncertain


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

    def best_split_for(self, weights: SplitWeights, digits: list[int]) -> Optional[list[int]]:
        """Like `best_split`, with one candidate for each of `digits` (the line reader's reading), each
        also scored by the classifier's log-probability of that digit; None if no split has that many."""
        scores = self.scores(weights)[:, None] + weights.line_digit * np.log(
            np.maximum(self.probabilities[:, digits], 1e-9))
        index = {group: i for i, group in enumerate(self.groups)}
        chain = best_split_of_length(self.segmentation, lambda a, b, k: float(scores[index[a, b], k]), self.groups,
                                     len(digits))
        return None if chain is None else [index[group] for group in chain]


def score_candidates(segmentation: Segmentation, groups: list[tuple[int, int]], classifier: Classifier,
                     verifier: Verifier) -> Candidates:
    """Classify every candidate digit (a, b) in `groups` (with the one shared `preprocess`) and ask the verifier about it."""
    crops = np.stack([preprocess(segmentation.crop(a, b), classifier.config) for a, b in groups])
    return Candidates(segmentation, groups, classifier.probabilities(crops),
                      verifier.whole_probabilities(segmentation, groups),
                      np.array([segmentation.shape_score(a, b) for a, b in groups]))


@dataclass(frozen=True)
class DigitReading:
    """One digit of a number: its label 0-9, the classifier's confidence and its box in the image."""

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

    @property
    def khmer(self) -> str:
        return "".join(d.glyph for d in self.digits)

    @property
    def arabic(self) -> str:
        return "".join(str(d.label) for d in self.digits)

    @property
    def uncertain(self) -> bool:
        """True if any digit is below the confidence threshold."""
        return any(d.uncertain for d in self.digits)

    def to_dict(self) -> dict:
        return {"file": self.source, "khmer": self.khmer, "arabic": self.arabic, "uncertain": self.uncertain,
                "threshold": self.threshold, "image_size": list(self.image_size),
                "digits": [d.to_dict() for d in self.digits]}


def read_number(source: ImageSource, classifier: Classifier, verifier: Verifier,
                threshold: float = DEFAULT_THRESHOLD, weights: SplitWeights = SplitWeights(),
                line_reader: Optional[LineReader] = None) -> NumberReading:
    """Read the handwritten number (one line of digits, any length) in an image; with a `line_reader`,
    split it into as many digits as that reads (unless no split has that many)."""
    gray = as_gray(source)
    name = display_path(source) if isinstance(source, (str, Path)) else "<image>"
    size = (gray.shape[1], gray.shape[0])
    segmentation = segment(gray)
    groups = segmentation.groups()
    if not groups:
        return NumberReading(name, (), threshold, size)
    candidates = score_candidates(segmentation, groups, classifier, verifier)
    chain, line_probabilities = None, None
    if line_reader is not None:
        line_digits, line_probabilities = line_reader.read(segmentation)
        chain = candidates.best_split_for(weights, line_digits) if line_digits else None
    if chain is None:
        chain, line_probabilities = candidates.best_split(weights), None
    digits = []
    for position, index in enumerate(chain):
        row = candidates.probabilities[index]
        if line_probabilities is not None:  # both models' evidence
            row = row * line_probabilities[position]
            row = row / max(float(row.sum()), 1e-12)
        label, confidence = int(row.argmax()), float(row.max())
        digits.append(DigitReading(label, confidence, segmentation.box(*candidates.groups[index]),
                                   confidence < threshold))
    return NumberReading(name, tuple(digits), threshold, size)


def label_font(size: int) -> ImageFont.ImageFont:
    """A font with the Khmer digits when the bundled one is installed, else Pillow's default."""
    from khmerdigit.synth import bundled_font

    path = bundled_font()
    return ImageFont.truetype(str(path), size) if path else ImageFont.load_default(size)


def draw_debug(source: ImageSource, reading: NumberReading, target: Path) -> None:
    """Save the image, enlarged, with each digit's box and prediction drawn on it (uncertain digits in red)."""
    gray = as_gray(source)
    scale = max(1, round(600 / max(gray.shape)))
    image = Image.fromarray(np.round(np.clip(gray, 0, 1) * 255).astype(np.uint8), "L").convert("RGB")
    image = image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST)
    margin = 14 * scale  # room above the top for the labels
    canvas = Image.new("RGB", (image.width, image.height + margin), "white")
    canvas.paste(image, (0, margin))
    draw = ImageDraw.Draw(canvas)
    font = label_font(max(10, 6 * scale))
    for digit in reading.digits:
        colour = (220, 30, 30) if digit.uncertain else (20, 160, 60)
        box = digit.box
        corners = (box.left * scale, box.top * scale + margin, box.right * scale - 1, box.bottom * scale + margin - 1)
        draw.rectangle(corners, outline=colour, width=max(1, scale // 2))
        draw.text((corners[0], corners[1] - 2), f"{digit.glyph} {digit.confidence:.0%}", fill=colour, font=font,
                  anchor="lb")
    with atomic_path(Path(target)) as tmp:
        canvas.save(tmp, "PNG")
