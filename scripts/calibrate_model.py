"""Fit a digit model's temperature on held-out data and write it into the metadata beside the model.

    python scripts/calibrate_model.py khmerdigit/assets/default.tflite build/bundle/real-prepared build/bundle/mw-prepared

Uses the valid splits of the given prepared folders (held out from training, never the multi-writer
yardstick `valid/`), each image as it is and twice distorted.
"""

import argparse
from pathlib import Path

from khmerdigit.cli.console import out, track
from khmerdigit.evaluate.calibration import calibrate_model

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("model", type=Path)
parser.add_argument("data", type=Path, nargs="+", help="prepared folders whose valid split is held out")
args = parser.parse_args()
out.print(f"temperature {calibrate_model(args.model, args.data, track):.3f} saved in {args.model.with_suffix('.json')}")
