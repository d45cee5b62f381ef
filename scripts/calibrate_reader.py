"""Fit how `read` calibrates a digit's confidence on the line reader's, and save it in the line reader's metadata.

    python scripts/calibrate_reader.py [khmerdigit/assets/line.tflite] [--numbers 1500] [--seed 1]

Reads numbers composed from freshly drawn pen-stroke digits (never the multi-writer yardstick valid/)
with the bundled digit model and verifier; see khmerdigit/reading/calibration.py.
"""

import argparse
from pathlib import Path

from khmerdigit.cli.console import out, track
from khmerdigit.evaluate.calibration import calibrate_reader
from khmerdigit.runtime.registry import LINE

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("line_model", type=Path, nargs="?", default=LINE.bundled)
parser.add_argument("--numbers", type=int, default=1500, help="composed numbers to read")
parser.add_argument("--seed", type=int, default=1, help="seed of the digits and numbers (the benchmark's is 0)")
args = parser.parse_args()
calibration = calibrate_reader(args.line_model, args.numbers, args.seed, track)
out.print(f"calibration {calibration.to_dict()} saved in {args.line_model.with_suffix('.json')}")
