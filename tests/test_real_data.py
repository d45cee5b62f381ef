"""One real end-to-end run on the shared development data."""

import pytest

from khmerdigit.data.dataset import labelled_files, prepare
from khmerdigit.evaluate.metrics import evaluate
from khmerdigit.runtime.classifier import Classifier
from khmerdigit.train.trainer import TrainConfig, train
from tests.helpers import REAL_DATA

pytestmark = pytest.mark.skipif(not REAL_DATA.is_dir(), reason="../shared/data/khmer-digits-real not present")


def test_real_data_end_to_end(tmp_path):
    result = prepare(REAL_DATA, tmp_path / "prepared")
    assert len(result.duplicates) >= 600  # the shared set has 614 byte-identical copies
    assert sum(result.counts["test"].values()) > 50
    run_dir = train(TrainConfig(data=[str(tmp_path / "prepared")], epochs=10, project=str(tmp_path / "runs")))
    samples = labelled_files(tmp_path / "prepared", "test").samples
    metrics = evaluate(Classifier(run_dir / "best.keras"), samples, tmp_path / "eval").metrics
    assert metrics["images"] == len(samples)
    assert metrics["accuracy"] > 0.6  # far above chance (10 %) after only ten epochs
