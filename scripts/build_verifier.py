"""Rebuild the bundled whole-digit verifier khmerdigit/assets/verifier.tflite from scratch.

    python scripts/build_verifier.py [--real ../shared/data/khmer-digits-real] [--numbers 4000]
                                     [--workdir build/verifier] [--out khmerdigit/assets/verifier.tflite]

Numbers are composed from pen-stroke digits, font digits and the real development set's train
split (the same split as the bundled digit model's, so its test split stays held out for
benchmarks/read_numbers.py). Run from a checkout with khmerdigit installed (pip install -e ".[dev]").
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from khmerdigit.compose import font_digits, split_digits, stroke_digits
from khmerdigit.console import out, track
from khmerdigit.dataset import prepare
from khmerdigit.export import export_tflite
from khmerdigit.verifier_training import train_verifier


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--real", type=Path, default=Path("../shared/data/khmer-digits-real"))
    parser.add_argument("--numbers", type=int, default=4000, help="Composed numbers to train on (a tenth validates).")
    parser.add_argument("--workdir", type=Path, default=Path("build/verifier"))
    parser.add_argument("--out", type=Path, default=Path("khmerdigit/assets/verifier.tflite"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    started = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    prepared = args.workdir / "real-prepared"
    if not prepared.exists():
        prepare(args.real, prepared, seed=0, track=track)
    pools = [stroke_digits(300, rng), font_digits(150, rng), split_digits(prepared, "train")]
    result = train_verifier(pools, args.workdir / "verifier.keras", args.numbers, seed=args.seed, track=track)
    export_tflite(result.model, args.out, quantize="float16")
    out.print(f"{result.examples:,} candidates ({result.whole_share:.0%} whole digits), best epoch {result.epochs}, "
              f"held-out accuracy {result.valid_accuracy:.1%}; wrote {args.out} "
              f"in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
