"""Rebuild the bundled whole-digit verifier khmerdigit/assets/verifier.tflite from scratch.

    python scripts/build_verifier.py [--real ../shared/data/khmer-digits-real] [--numbers 4000]
                                     [--rounds 3] [--hard-numbers 1500] [--workdir build/verifier]
                                     [--out khmerdigit/assets/verifier.tflite]

Numbers are composed from pen-stroke digits, font digits and the real development set's train
split (the same split as the bundled digit model's, so its test split stays held out for
benchmarks/read_numbers.py). The first round trains on candidates sampled from `--numbers`
numbers; each further round goes on training the last one on `--hard-numbers` fresh numbers whose
candidates include hard negatives: those that `read`, with the bundled digit model and the last
round's verifier, scores highest but that are not whole digits. Each round is kept in the workdir
(round-N.keras) and reused; delete them to start over. Run from a checkout with khmerdigit
installed (pip install -e ".[dev]").
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from khmerdigit.cli.console import out, track
from khmerdigit.data.compose import training_pools
from khmerdigit.runtime.registry import BUNDLED_MODEL
from khmerdigit.train.export import export_tflite
from khmerdigit.train.verifier import refine_verifier, train_verifier
from khmerdigit.train.verifier_data import CandidateScorer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--real", type=Path, default=Path("../shared/data/khmer-digits-real"))
    parser.add_argument("--multiwriter", type=Path, default=Path("../shared/data/khmer-digits-multiwriter"))
    parser.add_argument("--numbers", type=int, default=4000, help="Composed numbers to train on (a tenth validates).")
    parser.add_argument("--rounds", type=int, default=3, help="Training rounds; each after the first mines hard negatives.")
    parser.add_argument("--hard-numbers", type=int, default=1500, help="Numbers to mine hard negatives from, per round.")
    parser.add_argument("--workdir", type=Path, default=Path("build/verifier"))
    parser.add_argument("--out", type=Path, default=Path("khmerdigit/assets/verifier.tflite"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    started = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    pools = training_pools(args.real, args.multiwriter, args.workdir, rng, track)
    model = args.workdir / "round-1.keras"
    if not model.exists():
        train_verifier(pools, model, args.numbers, seed=args.seed, track=track)
    for round_number in range(2, args.rounds + 1):
        refined = args.workdir / f"round-{round_number}.keras"
        if not refined.exists():
            export_tflite(model, model.with_suffix(".tflite"), quantize="dynamic")
            reader = CandidateScorer(BUNDLED_MODEL, model.with_suffix(".tflite"))
            result = refine_verifier(pools, reader, model, refined, args.hard_numbers,
                                     seed=args.seed + round_number - 2, track=track)  # fresh numbers each round
            out.print(f"round {round_number}: {result.examples:,} candidates ({result.whole_share:.0%} whole digits), "
                      f"best epoch {result.epochs}, held-out accuracy {result.valid_accuracy:.1%}")
        model = refined
    export_tflite(model, args.out, quantize="dynamic")
    out.print(f"wrote {args.out} from {model} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
