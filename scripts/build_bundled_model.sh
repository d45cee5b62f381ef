#!/usr/bin/env bash
# Rebuild the bundled digit model khmerdigit/assets/default.tflite from scratch, seeded:
# synthetic digits (Khmer fonts + the pen-stroke model) mixed with the real development set's train
# split and the multi-writer set's train/ (never its valid/, the yardstick), then calibrated on
# held-out data and scored on valid/. The bundled model averages two such CNNs trained apart (different
# seeds, synthetic sets and augmentation strengths): together they read unseen writers better than
# either. Run from a checkout with khmerdigit installed (pip install -e ".[dev]"); about 70 minutes
# on 2 CPU cores.
set -euo pipefail
cd "$(dirname "$0")/.."
REAL=${REAL:-../shared/data/khmer-digits-real}
MULTIWRITER=${MULTIWRITER:-../shared/data/khmer-digits-multiwriter}
BUILD=${BUILD:-build/bundle}

# The fonts the synthetic half is drawn with: without them the model is several points worse.
FONT_PACKAGES="fonts-khmeros fonts-sil-mondulkiri"
if ! dpkg -s $FONT_PACKAGES >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq $FONT_PACKAGES
  else
    echo "error: install the Khmer fonts first: sudo apt-get install $FONT_PACKAGES" >&2
    exit 1
  fi
fi

rm -rf "$BUILD"
khmerdigit synth "$BUILD/synth" --per-class 1500 --strength 0.7 --seed 0
khmerdigit prepare "$BUILD/synth" --out "$BUILD/synth-prepared" --seed 0
khmerdigit synth "$BUILD/synth-mild" --per-class 1500 --strength 0.4 --seed 1
khmerdigit prepare "$BUILD/synth-mild" --out "$BUILD/synth-mild-prepared" --seed 1
khmerdigit prepare "$REAL" --out "$BUILD/real-prepared" --seed 0
khmerdigit prepare "$MULTIWRITER/train" --out "$BUILD/mw-prepared" --seed 0
# Real images are repeated so that they weigh about half as much as the 15,000 synthetic ones:
# the development set's 380 train images six times, the multi-writer train split's ~410 eight times.
R="$BUILD/real-prepared"
M="$BUILD/mw-prepared"
REAL_DATA=(--data "$R" --data "$R" --data "$R" --data "$R" --data "$R" --data "$R"
           --data "$M" --data "$M" --data "$M" --data "$M" --data "$M" --data "$M" --data "$M" --data "$M")
khmerdigit train --data "$BUILD/synth-prepared" "${REAL_DATA[@]}" \
  --model default --epochs 40 --patience 6 --seed 0 --project "$BUILD/runs" --name bundled
khmerdigit train --data "$BUILD/synth-mild-prepared" "${REAL_DATA[@]}" \
  --model default --epochs 40 --patience 6 --seed 1 --augment 0.5 --project "$BUILD/runs" --name member
python scripts/ensemble_models.py "$BUILD/runs/bundled/best.keras" "$BUILD/runs/member/best.keras" \
  -o "$BUILD/ensemble.keras"
khmerdigit export --model "$BUILD/ensemble.keras" --quantize dynamic -o khmerdigit/assets/default.tflite
# Read with three views of each digit (as it is, turned 8 degrees either way), calibrated for them.
python scripts/calibrate_model.py khmerdigit/assets/default.tflite "$R" "$M" --views 3
khmerdigit evaluate "$MULTIWRITER" --split valid --model khmerdigit/assets/default.tflite --out "$BUILD/eval-valid"
khmerdigit evaluate "$R" --split test --model khmerdigit/assets/default.tflite --out "$BUILD/eval-dev-test"
python benchmarks/accuracy.py --only-bundled --workdir "$BUILD" --multiwriter "$MULTIWRITER" --real "$REAL"
