"""Accuracy benchmark: digit models on writers they never saw, first; then the development test split.

    python benchmarks/accuracy.py [--multiwriter ../shared/data/khmer-digits-multiwriter]
                                  [--real ../shared/data/khmer-digits-real] [--workdir build/bench]
                                  [--paper-run RUN] [--real-run RUN] [--synth-run RUN] [--only-bundled]

The yardstick is the multi-writer set's `valid/` (500 digits by three writers no model trained on).
Trains what it is not given (--paper-run, --real-run, --synth-run reuse run folders):
- paper, its protocol: the paper's CNN on 64x64 inverted images of the development set, each
  training image rotated 0-29 degrees in 1 degree steps (valid and test rotated too, as in the
  paper; we split before rotating, so no rotated copy of a test image is trained on);
- default, real only: the default CNN on the development set and the multi-writer `train/`;
- default, synthetic only: fonts and pen strokes (`synth`), no real image;
- bundled: khmerdigit/assets/default.tflite.
Prints accuracy on `valid/` overall, per class and under simulated capture conditions (photo,
screen, scan, ...), the development test split, and for the bundled model its calibration
(expected calibration error, risk-coverage at the default threshold).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from khmerdigit import NUM_CLASSES, defaults, percent
from khmerdigit.cli.console import out, print_wide, simple_table, track
from khmerdigit.data.augment import PERTURBATIONS
from khmerdigit.data.dataset import labelled_files, prepare
from khmerdigit.data.synth import synthesize
from khmerdigit.evaluate.calibration import expected_calibration_error, risk_coverage
from khmerdigit.runtime.classifier import Classifier
from khmerdigit.runtime.preprocess import as_gray, preprocess
from khmerdigit.runtime.registry import BUNDLED_MODEL

CONDITIONS = ("photo", "photo, shadow", "photo, low contrast", "motion blur", "screen", "screenshot", "scan",
              "ruled paper", "inverted", "rotate +20°", "photo, on a table", "form box", "underlined")


def probabilities(classifier: Classifier, grays: list[np.ndarray]) -> np.ndarray:
    """Calibrated probabilities of preprocessed images (a blank image gets uniform ones)."""
    return classifier.probabilities(np.stack([preprocess(g, classifier.config) for g in grays]))


def train_run(data: list[Path], model: str, project: Path, name: str, epochs: int, augment=None) -> Path:
    from khmerdigit.train.trainer import TrainConfig, train

    config = TrainConfig(data=[str(d) for d in data], model=model, epochs=epochs, patience=8, augment=augment,
                         project=str(project), name=name)
    return train(config, track=track)


def trained_models(args, work: Path) -> dict[str, Path]:
    """The comparison models: given run folders, or trained here."""
    real, multiwriter = work / "real-prepared", work / "mw-prepared"
    if not real.exists():
        prepare(args.real, real, seed=0, track=track)
    if not multiwriter.exists():
        prepare(args.multiwriter / "train", multiwriter, seed=0, track=track)
    paper_data = work / "real-rotated"
    if args.paper_run is None and not paper_data.exists():
        prepare(args.real, paper_data, seed=0, rotations=29, rotate_eval=True, track=track)
    if args.synth_run is None and not (work / "synth-prepared").exists():
        synthesize(work / "synth", per_class=1500, strength=0.7, seed=0, track=track)
        prepare(work / "synth", work / "synth-prepared", seed=0, track=track)
    runs = work / "runs"
    return {
        "paper, its protocol": args.paper_run or train_run([paper_data], "paper", runs, "paper", args.epochs, 0.0),
        "default, real only": args.real_run or train_run([real, multiwriter], "default", runs, "real", args.epochs),
        "default, synthetic only": args.synth_run or train_run([work / "synth-prepared"], "default", runs, "synth",
                                                               args.epochs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--multiwriter", type=Path, default=Path("../shared/data/khmer-digits-multiwriter"))
    parser.add_argument("--real", type=Path, default=Path("../shared/data/khmer-digits-real"))
    parser.add_argument("--workdir", type=Path, default=Path("build/bench"))
    parser.add_argument("--paper-run", type=Path)
    parser.add_argument("--real-run", type=Path)
    parser.add_argument("--synth-run", type=Path)
    parser.add_argument("--model", type=Path, default=BUNDLED_MODEL, help="The model reported as bundled.")
    parser.add_argument("--only-bundled", action="store_true", help="Train nothing: report the bundled model only.")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    work = args.workdir
    runs = {} if args.only_bundled else trained_models(args, work)
    models = {name: Classifier(run / "best.keras") for name, run in runs.items()}
    models["bundled"] = Classifier(args.model)

    valid = labelled_files(args.multiwriter, "valid").samples
    valid_grays, valid_labels = [as_gray(s.path) for s in valid], np.array([s.label for s in valid])
    dev = work / "real-prepared"
    if not dev.exists():
        prepare(args.real, dev, seed=0, track=track)
    dev_test = labelled_files(dev, "test").samples
    dev_grays, dev_labels = [as_gray(s.path) for s in dev_test], np.array([s.label for s in dev_test])
    rng = np.random.default_rng(args.seed)
    conditions = {name: [PERTURBATIONS[name](g, rng) for g in valid_grays] for name in CONDITIONS}

    header = ["model", "valid/ (3 unseen writers)", "worst class", *[f"{d}" for d in range(NUM_CLASSES)],
              "dev test split", *CONDITIONS]
    rows, bundled_p = [], None
    for name, classifier in track(list(models.items()), "Scoring models"):
        p = probabilities(classifier, valid_grays)
        right = p.argmax(axis=1) == valid_labels
        per_class = [right[valid_labels == d].mean() for d in range(NUM_CLASSES)]
        dev_accuracy = (probabilities(classifier, dev_grays).argmax(axis=1) == dev_labels).mean()
        under = [(probabilities(classifier, conditions[c]).argmax(axis=1) == valid_labels).mean() for c in CONDITIONS]
        rows.append([name, percent(right.mean()), f"{int(np.argmin(per_class))}: {percent(min(per_class))}",
                     *map(percent, per_class), percent(dev_accuracy), *map(percent, under)])
        if name == "bundled":
            bundled_p = p
    print_wide(simple_table(f"Digit accuracy: multi-writer valid/ ({len(valid)} images), per class, development "
                            f"test split ({len(dev_test)} images), valid/ under capture conditions", header, rows),
               width=400)

    bundled = models["bundled"]
    raw = bundled_p if bundled.temperature == 1.0 else probabilities_at(bundled, valid_grays, 1.0)
    accepted, errors = risk_coverage(bundled_p, valid_labels, defaults.THRESHOLD)
    out.print(f"bundled model {args.model.name}: {args.model.stat().st_size / 1024:.0f} KiB, "
              f"{bundled.metadata['parameters']:,} parameters, temperature {bundled.temperature:.3f}; on valid/: "
              f"expected calibration error {expected_calibration_error(raw, valid_labels):.3f} uncalibrated, "
              f"{expected_calibration_error(bundled_p, valid_labels):.3f} calibrated; at the default threshold "
              f"{defaults.THRESHOLD}: {percent(accepted)} of images accepted, {percent(errors)} errors among them")


def probabilities_at(classifier: Classifier, grays: list[np.ndarray], temperature: float) -> np.ndarray:
    """The classifier's probabilities at another temperature (1.0: uncalibrated)."""
    saved, classifier.temperature = classifier.temperature, temperature
    try:
        return probabilities(classifier, grays)
    finally:
        classifier.temperature = saved


if __name__ == "__main__":
    main()
