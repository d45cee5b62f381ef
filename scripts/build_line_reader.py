"""Rebuild the bundled line reader khmerdigit/assets/line.tflite from scratch.

    python scripts/build_line_reader.py [--real ../shared/data/khmer-digits-real] [--numbers 48000]
                                        [--epochs 16] [--workdir build/line-reader]
                                        [--out khmerdigit/assets/line.tflite]

Numbers are composed from pen-stroke digits, font digits, the multi-writer set's train/ (never its
valid/, which benchmarks/read_numbers.py composes its numbers from) and the real development set's
train split (the bundled digit model's split). Then `read`'s digit confidences are calibrated on it
(scripts/calibrate_reader.py, about 15 minutes). Run from a checkout with khmerdigit installed
(pip install -e ".[dev]").
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from khmerdigit.cli.console import out, track
from khmerdigit.data.compose import training_pools
from khmerdigit.evaluate.calibration import calibrate_reader
from khmerdigit.train.export import export_tflite
from khmerdigit.train.line import train_line_reader


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--real", type=Path, default=Path("../shared/data/khmer-digits-real"))
    parser.add_argument("--multiwriter", type=Path, default=Path("../shared/data/khmer-digits-multiwriter"))
    parser.add_argument("--numbers", type=int, default=48000,
                        help="Composed numbers to train on (a twentieth validates).")
    parser.add_argument("--epochs", type=int, default=16)
    parser.add_argument("--workdir", type=Path, default=Path("build/line-reader"))
    parser.add_argument("--out", type=Path, default=Path("khmerdigit/assets/line.tflite"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    started = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    pools = training_pools(args.real, args.multiwriter, args.workdir, rng, track)
    model = args.workdir / "line.keras"
    result = train_line_reader(pools, model, args.numbers, args.epochs, seed=args.seed, track=track)
    out.print(f"{result.numbers:,} numbers, best epoch {result.epochs}, held-out numbers read exactly "
              f"{result.valid_exact:.1%}")
    export_tflite(model, args.out, quantize="dynamic")
    calibration = calibrate_reader(args.out, numbers=1500, track=track)  # as scripts/calibrate_reader.py
    out.print(f"calibrated read's digit confidences on it: {calibration.to_dict()}")
    out.print(f"wrote {args.out} from {model} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
