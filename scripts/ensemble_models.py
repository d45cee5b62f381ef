"""Average two or more trained digit models into one .keras model (then `khmerdigit export` it).

    python scripts/ensemble_models.py build/bundle/runs/bundled/best.keras build/bundle/runs/member/best.keras \
        -o build/bundle/ensemble.keras
"""

import argparse
from pathlib import Path

from khmerdigit.cli.console import out
from khmerdigit.train.ensemble import ensemble

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("members", type=Path, nargs="+", help=".keras models with the same preprocessing")
parser.add_argument("-o", "--out", type=Path, required=True)
args = parser.parse_args()
out.print(f"wrote {ensemble(args.members, args.out)}")
