import numpy as np

from khmerdigit.evaluation import compute_metrics


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
    assert metrics["per_class"][9]["support"] == 0 and metrics["per_class"][9]["precision"] == 0.0
    assert len(metrics["confusion_matrix"]) == 10
