"""How `read` weighs classifier confidence, the verifier and shape: exact-number accuracy per weight setting.

    python benchmarks/split_weights.py [--numbers 60] [--seed 77] [--model FILE] [--verifier FILE]

Composes seeded 4-digit numbers of fresh pen-stroke digits (no real digits: the weights must not
be fitted to the development set), with clean spacing, touching pairs and all digits touching;
scores every candidate once, then reads each number with every setting of a small grid of
`reading.SplitWeights` and prints the best settings and the defaults.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import numpy as np

from khmerdigit.cli.console import print_wide, simple_table, track
from khmerdigit.data.compose import compose_number, stroke_digits
from khmerdigit.reading.reader import Candidates, SplitWeights, score_candidates
from khmerdigit.reading.segment import segment
from khmerdigit.reading.verifier import load_verifier
from khmerdigit.runtime.classifier import load_classifier

SPACINGS = {"clean": 0.0, "pairs touch": 0.5, "all touch": 1.0}
GRID = {"confidence": (0.5, 1.0, 2.0), "whole": (1.0, 2.0, 4.0), "shape": (0.25, 0.5, 1.0),
        "digit_bonus": (0.0, 0.5, 1.0)}


def accuracy(numbers: list[tuple[str, Candidates]], weights: SplitWeights) -> float:
    """Share of numbers read exactly with these weights."""
    right = 0
    for truth, candidates in numbers:
        labels = candidates.probabilities[candidates.best_split(weights)].argmax(axis=1)
        right += "".join(map(str, labels)) == truth
    return right / len(numbers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--numbers", type=int, default=60, help="Numbers per spacing.")
    parser.add_argument("--seed", type=int, default=77)
    parser.add_argument("--model", type=Path, help="Model file (default: the bundled model).")
    parser.add_argument("--verifier", type=Path, help="Whole-digit verifier (default: the bundled one).")
    args = parser.parse_args()

    classifier, verifier = load_classifier(args.model), load_verifier(args.verifier)
    rng = np.random.default_rng(args.seed)
    pool = stroke_digits(50, np.random.default_rng([args.seed, 7]))
    scored: dict[str, list[tuple[str, Candidates]]] = {}
    for spacing, touching in SPACINGS.items():
        scored[spacing] = []
        for _ in track(range(args.numbers), f"Scoring candidates, {spacing}"):
            labels = rng.integers(0, 10, 4)
            gray, _ = compose_number([pool[d][rng.integers(len(pool[d]))] for d in labels], touching, rng)
            segmentation = segment(gray)
            candidates = score_candidates(segmentation, segmentation.groups(), classifier, verifier)
            scored[spacing].append(("".join(map(str, labels)), candidates))
    rows = []
    for values in itertools.product(*GRID.values()):
        weights = SplitWeights(**dict(zip(GRID, values)))
        by_spacing = [accuracy(numbers, weights) for numbers in scored.values()]
        rows.append((float(np.mean(by_spacing)), weights == SplitWeights(), values, by_spacing))
    rows.sort(key=lambda row: -row[0])
    shown = rows[:10] + [row for row in rows[10:] if row[1]]
    table = [[*(f"{v:g}" for v in values), *(f"{a:.0%}" for a in by_spacing), f"{mean:.1%}",
              "default" if default else ""] for mean, default, values, by_spacing in shown]
    print_wide(simple_table(f"Exact 4-digit numbers by split weights ({args.numbers} per spacing, seed {args.seed})",
                            [*GRID, *SPACINGS, "mean", ""], table))


if __name__ == "__main__":
    main()
