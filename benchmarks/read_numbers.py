"""Reading-whole-numbers benchmark: exact-number and per-digit accuracy of `read` (with the bundled
models) next to a connected-components baseline, on numbers composed from digits by writers the
models never saw.

    python benchmarks/read_numbers.py [--multiwriter ../shared/data/khmer-digits-multiwriter]
                                      [--numbers 100] [--model FILE] [--line-model FILE]
                                      [--cuts-only] [--seed 0]

Composes seeded images of 4-digit and 2-10 digit numbers from the multi-writer set's `valid/`
digits (three writers no model trained on) and from freshly drawn pen-stroke digits, with uneven
spacing, slant, size and baseline jitter, broken strokes, ruling lines, specks, noise, uneven
paper and either polarity. Spacing "clean": gaps between all digits; "touching pairs": each pair
of neighbours touches with probability 1/2 (at least one pair does). Condition "photo": the image
is then photographed (gray uneven paper with a shadow, defocus, low contrast, JPEG); "photo, on a
table": photographed lying on a darker table that shows along one to three edges; "in a form box": a
printed box drawn around the number (a third of them cut out on the box's lines); "turned 3-15°" (the
last row): the image turned 3-15° either way (a page photographed askew, a line written uphill).
"exact, true cuts": the same images with each digit cut out perfectly (what the classifier alone
gets right). "misread flagged": share of misread numbers marked uncertain (number confidence below
the threshold, or the line reader reading other digits); "right flagged": share of correctly read
numbers marked uncertain; "mean confidence": the mean of `read`'s number confidences (were they calibrated, it
would match the share read right). The baseline reads every connected piece of ink as one digit with the
same classifier; "line reader alone" is the reading of `read`'s line reader by itself (it neither
flags nor is timed apart).

A second table reads each single `valid/` digit image with `read`, as it is and under simulated
capture conditions (`khmerdigit.data.augment.PERTURBATIONS`): the share read as exactly one digit,
the share read right, and how many misread images were flagged.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np
from scipy import ndimage

from khmerdigit import defaults, percent
from khmerdigit.cli.console import print_wide, simple_table, track
from khmerdigit.data.augment import PERTURBATIONS, in_form_box, on_table
from khmerdigit.data.compose import compose_number, photographed_number, split_digits, stroke_digits, turned_number
from khmerdigit.data.dataset import labelled_files
from khmerdigit.reading.reader import NumberReader, load_number_reader
from khmerdigit.reading.segment import clean_ink, digit_crop
from khmerdigit.runtime.classifier import Classifier
from khmerdigit.runtime.preprocess import INK_THRESHOLD, as_gray, ink_map, preprocess, preprocess_ink, remove_specks


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
    """The number as read if every digit were cut out perfectly (cropped as `read` crops digits)."""
    ink = clean_ink(gray).ink
    crops = [preprocess_ink(digit_crop(ink, mask), classifier.config) for mask in masks]
    return "".join(str(label) for label in classifier.probabilities(np.stack(crops)).argmax(axis=1))


def baseline_read(gray: np.ndarray, classifier: Classifier) -> tuple[str, bool]:
    """The simplest reader: every connected piece of ink, left to right, is one digit; uncertain when the
    product of the digits' confidences is below the default threshold."""
    ink = remove_specks(ink_map(gray))
    components, count = ndimage.label(ink > INK_THRESHOLD, np.ones((3, 3), bool))
    if count == 0:
        return "", True
    regions = sorted(ndimage.find_objects(components), key=lambda region: region[1].start)
    crops = np.stack([preprocess(1.0 - ink[region], classifier.config) for region in regions])
    probabilities = classifier.probabilities(crops)
    read = "".join(str(label) for label in probabilities.argmax(axis=1))
    return read, float(np.prod(probabilities.max(axis=1))) < defaults.THRESHOLD


@dataclass
class Score:
    """Counts for one table row."""

    numbers: int = 0
    exact: int = 0
    exact_true_cuts: int = 0  # of the numbers whose digits' true pixels are known
    true_cuts_known: int = 0
    digits: int = 0
    digit_errors: int = 0
    misread_flagged: int = 0  # misread numbers marked uncertain
    right_flagged: int = 0  # correctly read numbers marked uncertain
    seconds: list[float] = field(default_factory=list)
    confidences: list[float] = field(default_factory=list)  # the number confidences `read` gives
    flags: bool = True  # whether the reader marks numbers uncertain

    def add(self, read: str, truth: str, true_cuts: Optional[str], uncertain: bool = False,
            seconds: Optional[float] = None, confidence: Optional[float] = None) -> None:
        """Count one number (`true_cuts`: None where the digits' true pixels are not known; `seconds`: None
        for a reader not timed apart; `confidence`: None for a reader that gives none)."""
        self.numbers += 1
        self.exact += read == truth
        self.misread_flagged += read != truth and uncertain
        self.right_flagged += read == truth and uncertain
        self.exact_true_cuts += true_cuts == truth
        self.true_cuts_known += true_cuts is not None
        self.digits += len(truth)
        self.digit_errors += min(len(truth), edit_distance(read, truth))
        if seconds is not None:
            self.seconds.append(seconds)
        if confidence is not None:
            self.confidences.append(confidence)

    def row(self) -> list[str]:
        misread = self.numbers - self.exact
        return [str(self.numbers), percent(self.exact / self.numbers), percent(1 - self.digit_errors / self.digits),
                percent(self.exact_true_cuts / self.true_cuts_known) if self.true_cuts_known else "-",
                percent(self.misread_flagged / misread) if misread and self.flags else "-",
                percent(self.right_flagged / self.exact) if self.exact and self.flags else "-",
                percent(float(np.mean(self.confidences))) if self.confidences else "-",
                f"{1000 * float(np.median(self.seconds)):.0f}" if self.seconds else "-",
                f"{1000 * float(np.mean(self.seconds)):.0f}" if self.seconds else "-"]


Condition = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def score_row(reader: NumberReader, pool: dict[int, list[np.ndarray]], lengths: tuple[int, int], touching: float,
              condition: Condition, numbers: int, seed: list[int]) -> dict[str, Score]:
    """`read`, its line reader alone (read runs it anyway) and the baseline on the same `numbers` composed
    numbers."""
    rng = np.random.default_rng(seed)
    ours, line, baseline = Score(), Score(flags=False), Score()
    for _ in track(range(numbers), f"{lengths[0]}-{lengths[1]} digits, touching {touching:.0%}"):
        labels = rng.integers(0, 10, int(rng.integers(lengths[0], lengths[1] + 1)))
        gray, masks = compose_number([pool[d][rng.integers(len(pool[d]))] for d in labels], touching, rng)
        composed = gray.shape
        gray = condition(gray, rng)
        truth = "".join(map(str, labels))
        moved = gray.shape != composed  # a table around the page moves the digits from their true pixels
        true_cuts = None if moved else read_with_true_cuts(gray, masks, reader.classifier)
        start = time.perf_counter()
        reading = reader.read(gray)
        ours.add(reading.arabic, truth, true_cuts, reading.uncertain, time.perf_counter() - start, reading.confidence)
        line.add(reading.line_reading or "", truth, true_cuts)
        start = time.perf_counter()
        read, uncertain = baseline_read(gray, reader.classifier)
        baseline.add(read, truth, true_cuts, uncertain, time.perf_counter() - start)
    if reader.line_reader is None:
        return {"read": ours, "baseline": baseline}
    return {"read": ours, "line reader alone": line, "baseline": baseline}


SINGLE_CONDITIONS = ("photo", "photo, shadow", "photo, on a table", "screen", "screenshot", "scan", "ruled paper",
                     "squared paper", "rotate +20°", "form box", "underlined")


def single_digit_rows(reader: NumberReader, multiwriter: Path, seed: int) -> list[list[str]]:
    """`read` on each single `valid/` digit image, as it is and under capture conditions."""
    samples = labelled_files(multiwriter, "valid").samples
    grays = [as_gray(sample.path) for sample in samples]
    rows = []
    for name in ("as written", *SINGLE_CONDITIONS):
        rng = np.random.default_rng([seed, 99])
        one = right = misread_flagged = 0
        for sample, gray in zip(track(samples, f"single digits, {name}"), grays):
            reading = reader.read(gray if name == "as written" else PERTURBATIONS[name](gray, rng))
            one += len(reading.digits) == 1
            right += reading.arabic == str(sample.label)
            misread_flagged += reading.arabic != str(sample.label) and reading.uncertain
        misread = len(samples) - right
        rows.append([name, str(len(samples)), percent(one / len(samples)), percent(right / len(samples)),
                     f"{misread_flagged} of {misread}"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--multiwriter", type=Path, default=Path("../shared/data/khmer-digits-multiwriter"))
    parser.add_argument("--model", type=Path, help="Digit model file (default: the bundled model).")
    parser.add_argument("--line-model", type=Path, help="Line-reader model file (default: the bundled one).")
    parser.add_argument("--cuts-only", action="store_true", help="Read touching digits without the line reader.")
    parser.add_argument("--numbers", type=int, default=100, help="Numbers per table row.")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    reader = load_number_reader(args.model, line_model=args.line_model, use_line_reader=not args.cuts_only)
    pools = {"multi-writer valid": split_digits(args.multiwriter, "valid"),
             "synthetic": stroke_digits(50, np.random.default_rng([args.seed, 1]))}
    as_written: Condition = lambda gray, rng: gray  # noqa: E731
    rows = []
    number_sets = 0  # each set of numbers has its own seed (the same as before the line reader had rows)
    for source, pool in pools.items():
        for lengths in ((4, 4), (2, 10)):
            for spacing, touching in {"clean": 0.0, "touching pairs": 0.5}.items():
                conditions = {"as written": as_written}
                if source != "synthetic" and lengths == (4, 4):
                    conditions["photo"] = photographed_number
                for condition_name, condition in conditions.items():
                    seed = [args.seed, 2 * number_sets]
                    number_sets += 1
                    scores = score_row(reader, pool, lengths, touching, condition, args.numbers, seed)
                    length = f"{lengths[0]}" if lengths[0] == lengths[1] else f"{lengths[0]}-{lengths[1]}"
                    for name, result in scores.items():
                        rows.append([source, length, spacing, condition_name, name, *result.row()])
    framed: dict[str, Condition] = {  # the digits move, so no true cuts
        "photo, on a table": lambda gray, rng: on_table(photographed_number(gray, rng), rng),
        "in a form box": in_form_box,
        "turned 3-15°": turned_number}
    for condition_name, condition in framed.items():
        scores = score_row(reader, pools["multi-writer valid"], (4, 4), 0.0, condition, args.numbers,
                           [args.seed, 2 * number_sets])
        number_sets += 1
        rows += [["multi-writer valid", "4", "clean", condition_name, name, *result.row()]
                 for name, result in scores.items()]
    header = ["digits from", "length", "spacing", "condition", "reader", "numbers", "exact number", "per digit",
              "exact, true cuts", "misread flagged", "right flagged", "mean confidence", "median ms", "mean ms"]
    touching_reader = "cuts only" if reader.line_reader is None else f"cuts and {reader.line_reader.path.name}"
    print_wide(simple_table(f"Reading whole numbers with {reader.classifier.path.name} (touching digits: "
                            f"{touching_reader}; seed {args.seed})", header, rows))
    print_wide(simple_table(f"Reading single multi-writer valid/ digits with read (seed {args.seed})",
                            ["condition", "images", "read as one digit", "read right", "misread flagged"],
                            single_digit_rows(reader, args.multiwriter, args.seed)))


if __name__ == "__main__":
    main()
