"""Speed benchmark: start-up times, batch throughput (Keras vs LiteRT float32/dynamic/int8, the bundled
model with its test-time views and with one), sizes, quantized accuracy.

    python benchmarks/speed.py --run build/bundle/runs/bundled [--real ../shared/data/khmer-digits-real]

--run is a training run folder (scripts/build_bundled_model.sh makes one); its best.keras is
exported to float32, dynamic-range (int8 weights) and int8 .tflite files in --workdir for the comparison.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from khmerdigit import percent
from khmerdigit.cli.console import out, simple_table
from khmerdigit.data.dataset import labelled_files, load_arrays, prepare
from khmerdigit.data.strokes import render_digit
from khmerdigit.runtime.classifier import Classifier
from khmerdigit.runtime.registry import BUNDLED_MODEL
from khmerdigit.train.export import export_tflite

BATCH = 256


def wall_time(command: list[str], repeats: int = 5) -> float:
    """Median wall time of a command, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def throughput(classifier: Classifier, images: np.ndarray) -> float:
    """Images per second through `classifier.probabilities` in batches."""
    classifier.probabilities(images[:BATCH])  # warm-up
    start = time.perf_counter()
    for first in range(0, len(images), BATCH):
        classifier.probabilities(images[first : first + BATCH])
    return len(images) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, required=True)
    parser.add_argument("--real", type=Path, default=Path("../shared/data/khmer-digits-real"))
    parser.add_argument("--workdir", type=Path, default=Path("build/speed"))
    args = parser.parse_args()
    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    real = work / "real-prepared"
    if not real.exists():
        prepare(args.real, real)

    one = work / "one.png"
    render_digit(3, np.random.default_rng(0)).save(one)
    cli = [sys.executable, "-m", "khmerdigit"]
    tf_import = wall_time([sys.executable, "-c", "import tensorflow"])
    predict_cold = wall_time([*cli, "predict", str(one)])
    help_time = wall_time([*cli, "--help"])
    rows = [["python -c 'import tensorflow' (reference)", f"{tf_import * 1000:.0f} ms", "100%"],
            ["khmerdigit predict one.png (bundled model, cold)", f"{predict_cold * 1000:.0f} ms",
             f"{predict_cold / tf_import:.1%}"],
            ["khmerdigit --help", f"{help_time * 1000:.0f} ms", f"{help_time / tf_import:.1%}"]]
    out.print(simple_table("Start-up (median of 5 runs)", ["command", "wall time", "of TF import"], rows))

    keras_path = args.run / "best.keras"
    float_path, int8_path = work / "model-float32.tflite", work / "model-int8.tflite"
    dynamic_path = work / "model-dynamic.tflite"
    export_tflite(keras_path, float_path, "none")
    export_tflite(keras_path, dynamic_path, "dynamic")
    export_tflite(keras_path, int8_path, "int8", real)
    bundled, bundled_one_view = Classifier(BUNDLED_MODEL), Classifier(BUNDLED_MODEL)
    bundled_one_view.views = 1
    models = {"Keras (.keras)": Classifier(keras_path), "LiteRT float32": Classifier(float_path),
              "LiteRT dynamic": Classifier(dynamic_path), "LiteRT int8": Classifier(int8_path),
              f"bundled ({bundled.views} views)": bundled, "bundled, one view": bundled_one_view}
    x, y, _, _ = load_arrays(labelled_files(real).samples, models["LiteRT float32"].config)
    images = np.resize(x, (10_000, *x.shape[1:]))
    rows = []
    for name, classifier in models.items():
        accuracy = float((classifier.probabilities(x).argmax(axis=1) == y).mean())
        rows.append([name, f"{throughput(classifier, images):,.0f}", f"{classifier.path.stat().st_size / 1024:.0f} KiB",
                     percent(accuracy)])
    out.print(simple_table(f"Batch prediction of 10,000 preprocessed images (batch {BATCH}); accuracy on the "
                           f"{len(y)} real development images", ["model", "images/s", "file size", "accuracy"], rows))


if __name__ == "__main__":
    main()
