"""predict: warnings for images that are not one digit, calibrated confidence."""

import json

import numpy as np
from PIL import Image

from khmerdigit.runtime.classifier import digit_sized_marks, with_temperature
from khmerdigit.runtime.preprocess import digit_ink
from tests.helpers import compose, digit_image, run


def test_predict_says_when_an_image_holds_a_number(tmp_path):
    number, _ = compose([2, 0, 2, 5], [14, 12, 16])
    assert digit_sized_marks(digit_ink(number)) == 4
    for label in range(10):
        assert digit_sized_marks(digit_ink(np.asarray(digit_image(label, 3), np.float32) / 255)) == 1, label
    Image.fromarray(np.round(number * 255).astype(np.uint8)).save(tmp_path / "number.png")
    digit_image(7, 1).save(tmp_path / "digit.png")
    result = run("predict", tmp_path, "--json")
    records = {r["file"].rsplit("/", 1)[-1]: r for r in json.loads(result.stdout)}
    assert "khmerdigit read" in records["number.png"]["warning"] and records["digit.png"]["warning"] is None
    assert result.stderr.count("warning:") == 1 and "number.png" in result.stderr


def test_temperature_softens_or_sharpens_without_changing_the_answer():
    p = np.array([[0.7, 0.2, 0.1], [0.05, 0.9, 0.05]])
    soft, sharp = with_temperature(p, 2.0), with_temperature(p, 0.5)
    assert np.allclose(soft.sum(1), 1) and np.allclose(sharp.sum(1), 1)
    assert (soft.argmax(1) == p.argmax(1)).all() and (sharp.argmax(1) == p.argmax(1)).all()
    assert (soft.max(1) < p.max(1)).all() and (sharp.max(1) > p.max(1)).all()
    assert with_temperature(p, 1.0) is p
