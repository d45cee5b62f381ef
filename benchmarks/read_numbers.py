"""Reading-whole-numbers benchmark: exact-number and per-digit accuracy of `read_number` (with the
bundled models, line reader included unless `--cuts-only`).

    python benchmarks/read_numbers.py [--real ../shared/data/khmer-digits-real] [--numbers 100]
                                      [--model FILE] [--verifier FILE] [--line-model FILE] [--cuts-only]
                                      [--workdir build/read-bench] [--seed 0]

Composes seeded images of 4-digit and 2-10 digit numbers from held-out real digits (the test
split of `prepare(REAL, seed=0)`, which neither bundled model trained on) and from freshly
drawn pen-stroke digits (seeded apart from the verifier's training digits), with uneven
spacing, slant, size and baseline jitter, broken strokes, ruling lines, specks, noise, uneven
paper and either polarity. Spacing "clean": gaps between
all digits; "touching pairs": each pair of neighbours touches with probability 1/2 (at least one
pair does); "all touching": every pair touches. Touching digits overlap by a pixel or two where
they come closest, or are joined by a short stroke. "exact, true cuts" reads the same images
with each digit cut out perfectly: what the classifier alone gets right. "misread flagged": the
share of misread numbers with a digit marked uncertain (confidence below 0.9); "right flagged":
the share of correctly read numbers with one.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from khmerdigit import percent
from khmerdigit.compose import compose_number, split_digits, stroke_digits
from khmerdigit.console import print_wide, simple_table, track
from khmerdigit.dataset import prepare
from khmerdigit.predictor import Classifier, load_classifier
from khmerdigit.preprocess import preprocess
from khmerdigit.line_reader import LineReader, load_line_reader
from khmerdigit.reading import read_number
from khmerdigit.segment import digit_crop, segment, shear_rows
from khmerdigit.verifier import Verifier, load_verifier


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
    """The number as read if every digit were cut out perfectly (cropped as `read_number` crops its
    candidates): the classifier's share of the errors."""
    segmentation = segment(gray)
    crops = [preprocess(digit_crop(segmentation.upright, shear_rows(mask, segmentation.shifts)), classifier.config)
             for mask in masks]
    return "".join(str(label) for label in classifier.probabilities(np.stack(crops)).argmax(axis=1))


@dataclass
class Score:
    """Counts for one table row."""

    numbers: int = 0
    exact: int = 0
    exact_true_cuts: int = 0
    digits: int = 0
    digit_errors: int = 0
    misread_flagged: int = 0  # misread numbers with a digit marked uncertain
    right_flagged: int = 0  # correctly read numbers with a digit marked uncertain
    seconds: float = 0.0

    def row(self) -> list[str]:
        misread = self.numbers - self.exact
        return [str(self.numbers), percent(self.exact / self.numbers), percent(1 - self.digit_errors / self.digits),
                percent(self.exact_true_cuts / self.numbers),
                percent(self.misread_flagged / misread) if misread else "-",
                percent(self.right_flagged / self.exact) if self.exact else "-",
                f"{1000 * self.seconds / self.numbers:.0f}"]


def score(classifier: Classifier, verifier: Verifier, line_reader: Optional[LineReader],
          pool: dict[int, list[np.ndarray]], lengths: tuple[int, int], touching: float, numbers: int,
          rng: np.random.Generator) -> Score:
    """Read `numbers` composed numbers; exact-number and per-digit (1 - edit distance / length) accuracy."""
    result = Score()
    for _ in track(range(numbers), f"{lengths[0]}-{lengths[1]} digits, touching {touching:.0%}"):
        labels = rng.integers(0, 10, int(rng.integers(lengths[0], lengths[1] + 1)))
        gray, masks = compose_number([pool[d][rng.integers(len(pool[d]))] for d in labels], touching, rng)
        truth = "".join(map(str, labels))
        start = time.perf_counter()
        reading = read_number(gray, classifier, verifier, line_reader=line_reader)
        result.seconds += time.perf_counter() - start
        read = reading.arabic
        result.numbers += 1
        result.exact += read == truth
        result.misread_flagged += read != truth and reading.uncertain
        result.right_flagged += read == truth and reading.uncertain
        result.exact_true_cuts += read_with_true_cuts(gray, masks, classifier) == truth
        result.digits += len(truth)
        result.digit_errors += min(len(truth), edit_distance(read, truth))
    return result


def real_pool(real: Path, workdir: Path) -> dict[int, list[np.ndarray]]:
    """Ink maps of the held-out real digits: the test split of prepare(REAL, seed=0)."""
    prepared = workdir / "real-prepared"
    if not prepared.exists():
        prepare(real, prepared, seed=0, track=track)
    return split_digits(prepared, "test")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--real", type=Path, default=Path("../shared/data/khmer-digits-real"))
    parser.add_argument("--workdir", type=Path, default=Path("build/read-bench"))
    parser.add_argument("--model", type=Path, help="Model file (default: the bundled model).")
    parser.add_argument("--verifier", type=Path, help="Whole-digit verifier (default: the bundled one).")
    parser.add_argument("--line-model", type=Path, help="Line reader (default: the bundled one).")
    parser.add_argument("--cuts-only", action="store_true", help="Read without the line reader.")
    parser.add_argument("--numbers", type=int, default=100, help="Numbers per table row.")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    classifier, verifier = load_classifier(args.model), load_verifier(args.verifier)
    line_reader = None if args.cuts_only else load_line_reader(args.line_model)
    rng = np.random.default_rng(args.seed)
    synthetic = stroke_digits(50, np.random.default_rng([args.seed, 1]))
    pools = {"real (held out)": real_pool(args.real, args.workdir), "synthetic": synthetic}
    spacings = {"clean": 0.0, "touching pairs": 0.5, "all touching": 1.0}
    rows = []
    for source, pool in pools.items():
        for lengths in ((4, 4), (2, 10)):
            for spacing, touching in spacings.items():
                result = score(classifier, verifier, line_reader, pool, lengths, touching, args.numbers, rng)
                length = f"{lengths[0]}" if lengths[0] == lengths[1] else f"{lengths[0]}-{lengths[1]}"
                rows.append([source, length, spacing, *result.row()])
    header = ["digits from", "length", "spacing", "numbers", "exact number", "per digit", "exact, true cuts",
              "misread flagged", "right flagged", "ms/number"]
    readers = "cuts only" if line_reader is None else f"with {line_reader.path.name}"
    print_wide(simple_table(f"Reading whole numbers with {classifier.path.name}, {readers} (seed {args.seed})", header,
                            rows))


if __name__ == "__main__":
    main()
