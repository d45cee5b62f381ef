"""Scoring a model on labelled images: metrics (scikit-learn), saved tables and figures."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from khmerdigit import KHMER_GLYPHS, NUM_CLASSES, KhmerDigitError, defaults
from khmerdigit.data.dataset import Reject, Sample, load_arrays
from khmerdigit.evaluate.plots import confusion_matrix_png, gallery_png
from khmerdigit.fileio import atomic_path, display_path, write_json
from khmerdigit.progress import Track, no_track
from khmerdigit.runtime.classifier import Classifier

GALLERY_LIMIT = 48  # misclassified images shown in the gallery


def compute_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    """Accuracy, per-class precision/recall/F1/accuracy/support and the confusion matrix."""
    labels = list(range(NUM_CLASSES))
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    predicted = np.bincount(y_pred.astype(int), minlength=NUM_CLASSES) if len(y_pred) else np.zeros(NUM_CLASSES)
    per_class = [  # None where a figure has nothing to count: no images of the class, or none read as it
        {
            "label": label, "glyph": KHMER_GLYPHS[label], "support": int(support[label]),
            # per-class accuracy as the paper reports it: correct / images of that class
            "accuracy": float(recall[label]) if support[label] else None,
            "precision": float(precision[label]) if predicted[label] else None,
            "recall": float(recall[label]) if support[label] else None,
            "f1": float(f1[label]) if support[label] else None,
        }
        for label in labels
    ]
    present = [row for row in per_class if row["support"]]
    return {
        "images": int(len(y_true)),
        "accuracy": float(np.mean(y_true == y_pred)) if len(y_true) else 0.0,
        "macro_f1": float(np.mean([row["f1"] for row in present])) if present else 0.0,
        "missing_classes": [row["label"] for row in per_class if not row["support"]],
        "per_class": per_class,
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }


@dataclass
class Evaluation:
    metrics: dict
    out_dir: Path
    skipped: list[Reject]


def short_name(path: Path, limit: int = 18) -> str:
    """A file name short enough for a gallery caption: the start and end of a long name."""
    name = Path(path).name
    return name if len(name) <= limit else f"{name[: limit - 8]}…{name[-7:]}"


def evaluate(classifier: Classifier, samples: list[Sample], out_dir: Path, track: Track = no_track,
             batch_size: int = 256, subject: str = "", data: str = "") -> Evaluation:
    """Score `classifier` on labelled samples; write metrics.json, predictions.csv and PNGs to out_dir.

    `subject` says what was evaluated (model, data, split) in the figures' titles; `data` which images
    (folder and split), so that runs evaluated on the same images can be compared.
    """
    x, y, loaded, skipped = load_arrays(samples, classifier.config, track, "Preprocessing")
    if not len(x):
        raise KhmerDigitError("no readable labelled images to evaluate")
    probabilities = np.concatenate([
        classifier.probabilities(x[start : start + batch_size])
        for start in track(range(0, len(x), batch_size), "Predicting")
    ])
    predicted = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    metrics = compute_metrics(y, predicted)
    subject = subject or f"{Path(classifier.path).name} on {len(y)} images"
    metrics.update(model=str(classifier.path), subject=subject, data=data, images=len(y),
                   skipped=[{"path": display_path(r.path), "reason": r.reason} for r in skipped])
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(out_dir / "metrics.json", metrics)
    with atomic_path(out_dir / "predictions.csv") as tmp, open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "label", "predicted", "confidence"])
        for sample, guess, score in zip(loaded, predicted, confidence):
            writer.writerow([display_path(sample.path), sample.label, int(guess), f"{score:.4f}"])
    score = f"accuracy {metrics['accuracy']:.1%} on {len(y)} images"
    confusion_matrix_png(np.asarray(metrics["confusion_matrix"]), out_dir / "confusion_matrix.png", subject, score)
    errors = np.flatnonzero(predicted != y)
    wrong = errors[:GALLERY_LIMIT]
    shown = f"the first {len(wrong)} of {len(errors)}" if len(errors) > len(wrong) else str(len(errors))
    gallery_png([x[i] for i in wrong],
                [f"{short_name(loaded[i].path)}\ntrue {KHMER_GLYPHS[y[i]]} {y[i]} → {KHMER_GLYPHS[predicted[i]]} "
                 f"{predicted[i]}\n{confidence[i]:.0%} sure" for i in wrong],
                out_dir / "misclassified.png", f"Misclassified images ({shown}): {subject}",
                f"No misclassified images: all {len(y)} read right.")
    return Evaluation(metrics, out_dir, skipped)


def default_eval_dir(run: Optional[Path], model_path: Path, split: Optional[str]) -> tuple[Path, str]:
    """Where evaluate writes: RUN/eval-SPLIT, or runs/evaluate/MODEL-SPLIT (parent, name)."""
    name = f"eval-{split or 'all'}"
    return (Path(run), name) if run else (defaults.RUNS_DIR / "evaluate", f"{model_path.stem}-{split or 'all'}")
