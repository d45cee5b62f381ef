"""How far confidence can be trusted: temperature scaling, expected calibration error, risk-coverage, and
the calibration of digits inside numbers on the line reader's probabilities."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.optimize import minimize_scalar

from khmerdigit import KhmerDigitError
from khmerdigit.fileio import read_json, write_json
from khmerdigit.progress import Track, no_track
from khmerdigit.reading.calibration import AgreementCalibration, log_odds
from khmerdigit.reading.reader import NumberReader
from khmerdigit.runtime.classifier import Classifier, checked_views, with_temperature
from khmerdigit.runtime.preprocess import as_gray, preprocess
from khmerdigit.runtime.registry import metadata_path


def fit_temperature(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The temperature that minimises the negative log-likelihood of `labels` (Guo et al., 2017)."""

    def nll(log_t: float) -> float:
        scaled = with_temperature(probabilities, float(np.exp(log_t)))
        return float(-np.log(np.maximum(scaled[np.arange(len(labels)), labels], 1e-12)).mean())

    return float(np.exp(minimize_scalar(nll, bounds=(-3, 3), method="bounded").x))


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = 15) -> float:
    """Mean |accuracy - confidence| over equal-width confidence bins, weighted by their share of images."""
    confidence, correct = probabilities.max(axis=1), probabilities.argmax(axis=1) == labels
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    return float(sum(abs(correct[which == b].mean() - confidence[which == b].mean()) * (which == b).mean()
                     for b in range(bins) if (which == b).any()))


def risk_coverage(probabilities: np.ndarray, labels: np.ndarray, threshold: float) -> tuple[float, float]:
    """Share of images accepted (confidence >= threshold) and the error rate among them."""
    accepted = probabilities.max(axis=1) >= threshold
    errors = (probabilities.argmax(axis=1) != labels)[accepted]
    return float(accepted.mean()), float(errors.mean()) if errors.size else 0.0


def held_out_probabilities(model_path: Path, folders: list[Path], views: int = 1, distorted: int = 2, seed: int = 0,
                           track: Track = no_track) -> tuple[np.ndarray, np.ndarray]:
    """Uncalibrated probabilities and labels of the valid splits of `folders` (data held out from training but
    not the yardstick), each image as it is and `distorted` more times with the training augmentation: a
    stand-in for handwriting and captures the model has not seen. Averaged over the first `views` of VIEWS."""
    from khmerdigit.data.augment import distort
    from khmerdigit.data.dataset import split_samples

    classifier = Classifier(model_path)
    classifier.temperature, classifier.views = 1.0, views
    rng = np.random.default_rng(seed)
    samples = [s for folder in folders for s in split_samples(Path(folder), "valid")]
    if not samples:
        raise KhmerDigitError(f"no valid-split images in {', '.join(map(str, folders))} to calibrate on")
    grays, labels = [], []
    for sample in track(samples, "Calibrating"):
        gray = as_gray(sample.path)
        grays += [gray] + [distort(gray, rng) for _ in range(distorted)]
        labels += [sample.label] * (1 + distorted)
    batch = np.stack([preprocess(g, classifier.config) for g in grays])
    return classifier.probabilities(batch), np.asarray(labels)


def calibrate_model(model_path: Path, folders: list[Path], views: int = 1, track: Track = no_track) -> float:
    """Fit the model's temperature, for averaging over the first `views` of VIEWS, on held-out data
    (`held_out_probabilities`) and save both in its metadata."""
    temperature = fit_temperature(*held_out_probabilities(model_path, folders, checked_views(views, "calibration"),
                                                          track=track))
    metadata = read_json(metadata_path(model_path))
    write_json(metadata_path(model_path), {**metadata, "temperature": round(temperature, 4), "views": views,
                                           "calibrated_on": [Path(f).name for f in folders]})
    return temperature


def fit_agreement_calibration(classifier_probability: np.ndarray, line_probability: np.ndarray,
                              correct: np.ndarray) -> AgreementCalibration:
    """Logistic regression of whether each digit was read right on both readers' log-odds of its label."""
    from sklearn.linear_model import LogisticRegression

    features = np.column_stack([log_odds(classifier_probability), log_odds(line_probability)])
    fit = LogisticRegression().fit(features, correct)
    return AgreementCalibration(float(fit.intercept_[0]), *map(float, fit.coef_[0]))


def reader_agreement(reader: NumberReader, numbers: int, seed: int = 1,
                     track: Track = no_track) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read `numbers` numbers composed from fresh pen-stroke digits (4 or 2-10 digits, touching or not,
    a third photographed) with `reader`, whose line reader must hold no calibration. For each digit of a
    number read with the right count of digits, where the line reader read as many: the classifier's
    probability of its label, the line reader's, and whether it is right."""
    from khmerdigit.data.compose import compose_number, photographed_number, stroke_digits
    from khmerdigit.reading.segment import clean_ink

    rng = np.random.default_rng([seed, 1])
    pool = stroke_digits(50, rng)
    line_reader = reader.line_reader
    rows = []
    for _ in track(range(numbers), "Reading composed numbers"):
        labels = rng.integers(0, 10, 4 if rng.random() < 0.5 else int(rng.integers(2, 11)))
        touching = 0.5 if rng.random() < 0.5 else 0.0
        gray, _ = compose_number([pool[d][rng.integers(len(pool[d]))] for d in labels], touching, rng)
        if rng.random() < 1 / 3:
            gray = photographed_number(gray, rng)
        reading = reader.read(gray)
        line = line_reader.read(clean_ink(gray))
        if len(reading.digits) == len(labels) == len(line.digits):
            rows += [(digit.confidence, line.probabilities[k, digit.label], digit.label == labels[k])
                     for k, digit in enumerate(reading.digits)]
    return tuple(np.array(column) for column in zip(*rows))  # type: ignore[return-value]


def calibrate_reader(line_model: Path, numbers: int, seed: int = 1, track: Track = no_track) -> AgreementCalibration:
    """Fit how `read` calibrates digit confidences on the line reader's (with the bundled digit model and
    verifier) and save it in the line reader's metadata."""
    from khmerdigit.reading.reader import load_number_reader

    reader = load_number_reader(line_model=line_model)
    reader.line_reader.calibration = None  # fit on the classifier's own probabilities
    calibration = fit_agreement_calibration(*reader_agreement(reader, numbers, seed, track))
    metadata = read_json(metadata_path(line_model))
    write_json(metadata_path(line_model), {**metadata, "calibration": calibration.to_dict(),
                                           "calibrated_on": f"{numbers} numbers of pen-stroke digits, seed {seed}"})
    return calibration
