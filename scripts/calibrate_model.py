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
parser.add_argument("--views", type=int, default=1, help="test-time views to average (1 to 5, see runtime/classifier.py)")
args = parser.parse_args()
temperature = calibrate_model(args.model, args.data, args.views, track)
out.print(f"temperature {temperature:.3f} for {args.views} view(s) saved in {args.model.with_suffix('.json')}")
