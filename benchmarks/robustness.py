"""Robustness harness at full size: 500+ bad or odd inputs through prepare, predict, evaluate and read.

    python benchmarks/robustness.py [--scale 10] [--model khmerdigit/assets/default.tflite]

Prints, per kind of input, how many were tried and how many were handled cleanly (a result or a
one-line reason, no traceback), plus any command-level problem (wrong exit code, RAW_DIR changed).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for fuzz when run as a script

from fuzz.corpus import make_corpus  # noqa: E402
from fuzz.harness import run_harness  # noqa: E402
from khmerdigit.cli.console import out, simple_table  # noqa: E402
from khmerdigit.runtime.registry import BUNDLED_MODEL  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--model", type=Path, default=BUNDLED_MODEL)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        kinds = make_corpus(root / "raw", scale=args.scale)
        result = run_harness(root / "raw", kinds, args.model, root / "work")
    rows = [[kind, str(c["tried"]), str(c["clean"])] for kind, c in result["kinds"].items()]
    tried = sum(c["tried"] for c in result["kinds"].values())
    clean = sum(c["clean"] for c in result["kinds"].values())
    rows.append(["total", str(tried), str(clean)])
    out.print(simple_table("Robustness: odd inputs through prepare, predict, evaluate, read", ["kind", "tried", "clean"],
                           rows))
    out.print("command-level problems: " + ("; ".join(result["problems"]) or "none"))


if __name__ == "__main__":
    main()
