import json

import numpy as np
import pytest

from khmerdigit.evaluate.metrics import compute_metrics


def test_metrics_from_known_predictions():
    y_true = np.array([0, 0, 0, 0, 1, 1, 2, 2, 2, 2])
    y_pred = np.array([0, 0, 0, 1, 1, 1, 2, 2, 0, 2])
    metrics = compute_metrics(y_true, y_pred)
    assert metrics["accuracy"] == 0.8
    zero, one, two = metrics["per_class"][:3]
    assert (zero["support"], zero["accuracy"], zero["precision"]) == (4, 0.75, 0.75)
    assert (one["accuracy"], one["precision"]) == (1.0, 2 / 3)
    assert two["accuracy"] == 0.75 and two["precision"] == 1.0
    assert metrics["confusion_matrix"][0][:3] == [3, 1, 0]
    assert metrics["confusion_matrix"][2][:3] == [1, 0, 3]


def test_missing_classes_are_reported_not_crashing():
    metrics = compute_metrics(np.array([3, 3, 5]), np.array([3, 9, 5]))
    assert metrics["missing_classes"] == [0, 1, 2, 4, 6, 7, 8, 9]
    assert metrics["per_class"][0]["accuracy"] is None
    assert metrics["per_class"][9]["support"] == 0 and metrics["per_class"][9]["precision"] == 0.0  # read once, wrongly
    assert [metrics["per_class"][0][key] for key in ("precision", "recall", "f1")] == [None, None, None]
    assert metrics["per_class"][9]["recall"] is None and metrics["per_class"][9]["f1"] is None
    assert len(metrics["confusion_matrix"]) == 10


def test_temperature_scaling_undoes_overconfidence():
    from khmerdigit.evaluate.calibration import expected_calibration_error, fit_temperature, risk_coverage
    from khmerdigit.runtime.classifier import with_temperature

    rng = np.random.default_rng(0)
    logits = rng.normal(0, 2, (4000, 10))
    honest = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    labels = np.array([rng.choice(10, p=row) for row in honest])  # labels drawn from the honest probabilities
    overconfident = with_temperature(honest, 1 / 3)
    assert abs(fit_temperature(overconfident, labels) - 3) < 0.3
    assert expected_calibration_error(overconfident, labels) > 0.15 > 0.03 > expected_calibration_error(honest, labels)
    accepted, errors = risk_coverage(honest, labels, threshold=0.9)
    confident = honest.max(1) >= 0.9
    assert accepted == confident.mean() and errors == (honest.argmax(1) != labels)[confident].mean()


def test_agreement_calibration_is_recovered_from_digits_read_right_and_wrong():
    from khmerdigit.evaluate.calibration import fit_agreement_calibration
    from khmerdigit.reading.calibration import AgreementCalibration

    rng = np.random.default_rng(0)
    truth = AgreementCalibration(1.5, 0.5, 0.3)
    classifier, line = rng.uniform(0.01, 0.999, (2, 6000))
    correct = rng.random(6000) < truth.confidence(classifier, line)
    fitted = fit_agreement_calibration(classifier, line, correct)
    assert fitted.intercept == pytest.approx(1.5, abs=0.25)
    assert fitted.classifier == pytest.approx(0.5, abs=0.08) and fitted.line == pytest.approx(0.3, abs=0.08)
    assert AgreementCalibration.from_dict(fitted.to_dict()) == AgreementCalibration(
        *(round(value, 4) for value in (fitted.intercept, fitted.classifier, fitted.line)))


def test_calibrate_reader_reads_composed_numbers_and_saves_the_fit_beside_the_line_reader(tmp_path):
    from khmerdigit.evaluate.calibration import calibrate_reader
    from khmerdigit.reading.calibration import AgreementCalibration
    from khmerdigit.reading.line_reader import LineReader
    from khmerdigit.runtime.registry import LINE

    line_model = tmp_path / "line.tflite"
    line_model.write_bytes(LINE.bundled.read_bytes())
    line_model.with_suffix(".json").write_text(LINE.bundled.with_suffix(".json").read_text())
    fitted = calibrate_reader(line_model, numbers=30, seed=5)
    saved = json.loads(line_model.with_suffix(".json").read_text())
    assert saved["calibrated_on"] == "30 numbers of pen-stroke digits, seed 5"
    assert LineReader(line_model).calibration == AgreementCalibration.from_dict(fitted.to_dict())
