#!/usr/bin/env bash
# Rebuild the bundled model khmerdigit/assets/default.tflite from scratch:
# synthetic digits (fonts + pen strokes) mixed with the real development set's train split.
# Run from a checkout, with khmerdigit installed (pip install -e ".[dev]").
# Uses Khmer system fonts too when installed (Debian: apt-get install fonts-khmeros fonts-sil-mondulkiri).
set -euo pipefail
cd "$(dirname "$0")/.."
REAL=${REAL:-../shared/data/khmer-digits-real}
BUILD=${BUILD:-build/bundle}
rm -rf "$BUILD"
khmerdigit synth "$BUILD/synth" --per-class 1500 --strength 0.7 --seed 0
khmerdigit prepare "$BUILD/synth" --out "$BUILD/synth-prepared"
khmerdigit prepare "$REAL" --out "$BUILD/real-prepared"
# The real set is repeated six times so that its 381 images weigh about a sixth of the 15,000 synthetic ones.
R="$BUILD/real-prepared"
khmerdigit train --data "$BUILD/synth-prepared" --data "$R" --data "$R" --data "$R" --data "$R" --data "$R" --data "$R" --model default \
  --epochs 40 --patience 6 --seed 0 --project "$BUILD/runs" --name bundled
khmerdigit export --run "$BUILD/runs/bundled" --quantize float16 -o khmerdigit/assets/default.tflite
khmerdigit evaluate "$BUILD/real-prepared" --split test --model khmerdigit/assets/default.tflite --out "$BUILD/eval"
