"""Accuracy benchmark: models x (clean held-out real data, perturbations a user's photos have).

    python benchmarks/accuracy.py [--real ../shared/data/khmer-digits-real] [--workdir build/bench]

Trains what it is not given (--paper-run, --real-run, --synth-run reuse existing run folders),
then prints accuracy overall and per class of: the paper's model, the default model trained on
real data only, trained on synthetic data only (also scored on the whole real set, which it
never saw), and the bundled model.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from khmerdigit import NUM_CLASSES, percent
from khmerdigit.cli.console import out, simple_table, track
from khmerdigit.data.augment import PERTURBATIONS
from khmerdigit.data.dataset import labelled_files, prepare
from khmerdigit.data.synth import synthesize
from khmerdigit.evaluate.metrics import compute_metrics
from khmerdigit.runtime.classifier import Classifier
from khmerdigit.runtime.preprocess import as_gray
from khmerdigit.runtime.registry import BUNDLED_MODEL


def accuracy(classifier: Classifier, grays: list[np.ndarray], labels: np.ndarray) -> dict:
    predicted = np.array([-1 if p.label is None else p.label for p in classifier.predict(grays)])  # -1: no digit found
    return compute_metrics(labels, predicted)


def train_run(data: list[Path], model: str, project: Path, name: str, epochs: int) -> Path:
    from khmerdigit.train.trainer import TrainConfig, train

    config = TrainConfig(data=[str(d) for d in data], model=model, epochs=epochs, patience=8,
                         project=str(project), name=name)
    return train(config, track=track)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--real", type=Path, default=Path("../shared/data/khmer-digits-real"))
    parser.add_argument("--workdir", type=Path, default=Path("build/bench"))
    parser.add_argument("--paper-run", type=Path)
    parser.add_argument("--real-run", type=Path)
    parser.add_argument("--synth-run", type=Path)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    work = args.workdir
    real = work / "real-prepared"
    if not real.exists():
        prepare(args.real, real, seed=args.seed, track=track)
    needs_synth = args.synth_run is None
    if needs_synth and not (work / "synth-prepared").exists():
        synthesize(work / "synth", per_class=1500, strength=0.7, seed=args.seed, track=track)
        prepare(work / "synth", work / "synth-prepared", seed=args.seed, track=track)
    runs = {
        "paper (real)": args.paper_run or train_run([real], "paper", work / "runs", "paper", args.epochs),
        "default (real only)": args.real_run or train_run([real], "default", work / "runs", "real", args.epochs),
        "default (synth only)": args.synth_run or train_run([work / "synth-prepared"], "default", work / "runs",
                                                            "synth", args.epochs),
    }
    models = {name: Classifier(run / "best.keras") for name, run in runs.items()}
    models["bundled"] = Classifier(BUNDLED_MODEL)

    test = labelled_files(real, "test").samples
    grays = [as_gray(s.path) for s in test]
    labels = np.array([s.label for s in test])
    rng = np.random.default_rng(args.seed)
    conditions = {"clean": grays} | {
        name: [perturb(g, rng) for g in grays] for name, perturb in PERTURBATIONS.items()
    }
    scores = {name: {c: accuracy(classifier, images, labels) for c, images in conditions.items()}
              for name, classifier in models.items()}
    rows = [[condition] + [percent(scores[name][condition]["accuracy"]) for name in models] for condition in conditions]
    out.print(simple_table(f"Accuracy on the held-out real test split ({len(test)} images)", ["condition", *models],
                           rows))
    per_class = {name: scores[name]["clean"] for name in models}

    class_rows = [[f"{label}"] + [percent(m["per_class"][label]["accuracy"]) for m in per_class.values()]
                  for label in range(NUM_CLASSES)]
    out.print(simple_table("Per-class accuracy, clean test split", ["class"] + list(per_class), class_rows))

    everything = labelled_files(real).samples
    whole = accuracy(models["default (synth only)"], [as_gray(s.path) for s in everything],
                     np.array([s.label for s in everything]))
    out.print(f"default (synth only) on the whole real set ({whole['images']} images, none seen in training): "
              f"{percent(whole['accuracy'])}; per class: "
              + ", ".join(f"{r['label']}: {percent(r['accuracy'])}" for r in whole["per_class"]))
    bundled = models["bundled"]
    out.print(f"bundled model: {BUNDLED_MODEL.stat().st_size / 1024:.0f} KiB, "
              f"{bundled.metadata['parameters']:,} parameters, quantization {bundled.metadata.get('quantization')}")


if __name__ == "__main__":
    main()
