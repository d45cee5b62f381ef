"""The line reader: CTC decoding, its input, examples and training, the bundled model, and `read` with it."""

import itertools
import json
import shutil

import numpy as np
import pytest

from khmerdigit import KhmerDigitError
from khmerdigit.data.compose import stroke_digits
from khmerdigit.reading.line_reader import best_path, ctc_log_likelihood, line_image, load_line_reader
from khmerdigit.reading.reader import SplitWeights, read_number, score_candidates
from khmerdigit.reading.segment import clean_ink, segment
from khmerdigit.reading.verifier import load_verifier
from khmerdigit.runtime.classifier import load_classifier
from khmerdigit.runtime.registry import BUNDLED_MODEL, LINE
from khmerdigit.train.export import export_tflite
from khmerdigit.train.line import train_line_reader
from khmerdigit.train.line_data import line_examples
from tests.helpers import assert_boxes, compose


def test_best_path_collapses_runs_and_skips_blanks():
    columns = [0, 3, 3, 0, 3, 5, 5, 0, 1]  # class 0 is "no digit", class k + 1 is digit k
    probabilities = np.full((len(columns), 11), 0.01)
    probabilities[np.arange(len(columns)), columns] = 0.9
    probabilities[2, 3], probabilities[2, 8] = 0.95, 0.04  # the first ២'s most likely column
    digits, shares = best_path(probabilities)
    assert digits == [2, 2, 4, 0]  # a blank between two runs of ២ keeps both
    assert shares.shape == (4, 10) and np.allclose(shares.sum(axis=1), 1)
    assert shares[0, 7] > 3 * shares[1, 7]  # each digit's probabilities come from its own best column
    assert best_path(np.eye(11)[[0, 0, 0]])[0] == []


def collapsed(path: tuple[int, ...]) -> list[int]:
    """The digits a CTC path of symbols spells: runs read once, class 0 (no digit) dropped."""
    return [symbol - 1 for symbol, _ in itertools.groupby(path) if symbol]


def test_ctc_likelihood_sums_every_path_that_spells_the_digits():
    columns = np.random.default_rng(0).dirichlet(np.ones(4), 6)  # 6 columns, no digit or digits 0-2
    for digits in ([], [1], [2, 0], [1, 1], [0, 1, 0], [2, 2, 2]):
        paths = [path for path in itertools.product(range(4), repeat=6) if collapsed(path) == digits]
        expected = sum(np.prod(columns[np.arange(6), path]) for path in paths)
        assert np.isclose(np.exp(ctc_log_likelihood(columns, digits)), expected)


def test_line_image_is_the_whole_number_at_a_fixed_height():
    gray, _ = compose([3, 1, 4], [10, 14])
    line = line_image(clean_ink(gray))
    assert line.shape == LINE.input_shape[:2]
    rows, cols = (np.flatnonzero((line > 0.5).any(axis=axis)) for axis in (1, 0))
    assert rows.min() >= 1 and rows.max() <= LINE.input_shape[0] - 2  # a margin above and below
    assert cols.min() <= 6 and cols.max() < LINE.input_shape[1] // 2  # left-aligned, not stretched
    np.testing.assert_allclose(line_image(clean_ink(1.0 - gray)), line, atol=0.1)  # either polarity
    assert not line_image(clean_ink(np.ones((30, 90), np.float32))).any()


@pytest.fixture(scope="module")
def pools():
    return [stroke_digits(4, np.random.default_rng(3))]


def test_line_examples_are_seeded_and_labelled(pools):
    x, y = line_examples(pools, 4, seed=5)
    x2, y2 = line_examples(pools, 4, seed=5, workers=2)
    assert x.shape == (4, *LINE.input_shape[:2]) and np.array_equal(x, x2) and np.array_equal(y, y2)
    lengths = (y >= 0).sum(axis=1)
    assert ((lengths >= 1) & (lengths <= 10)).all()
    assert all((row[:n] >= 0).all() and (row[n:] == -1).all() for row, n in zip(y, lengths))


def test_line_examples_include_lone_digits(pools):
    _, y = line_examples(pools, 60, seed=9)
    lengths = (y >= 0).sum(axis=1)
    assert lengths.min() == 1 and lengths.max() >= 8  # one digit alone is a number too


def test_trained_line_reader_saves_loads_and_exports(pools, tmp_path):
    result = train_line_reader(pools, tmp_path / "line.keras", numbers=40, epochs=1, workers=1)
    assert result.epochs == 1 and 0 <= result.valid_exact <= 1
    line = line_image(clean_ink(compose([2, 5], [12])[0]))[None, ..., None]
    probabilities = load_line_reader(result.model).runner(line)
    assert probabilities.shape == (1, LINE.input_shape[1] // 4, 11)
    assert np.allclose(probabilities.sum(axis=-1), 1, atol=1e-3)
    export_tflite(result.model, tmp_path / "line.tflite", quantize="dynamic")
    np.testing.assert_allclose(load_line_reader(tmp_path / "line.tflite").runner(line), probabilities, atol=0.02)
    with pytest.raises(KhmerDigitError, match="not a line model"):
        load_line_reader(BUNDLED_MODEL)


def test_a_line_model_made_for_another_input_is_refused(tmp_path):
    model = tmp_path / "line.tflite"
    shutil.copy(LINE.bundled, model)
    metadata = json.loads(LINE.bundled.with_suffix(".json").read_text())
    model.with_suffix(".json").write_text(json.dumps({**metadata, "line_margin": 0.3}))
    with pytest.raises(KhmerDigitError, match="another version of the line-reader's input"):
        load_line_reader(model)
    model.with_suffix(".json").write_text(json.dumps(metadata))
    assert load_line_reader(model).metadata == metadata


def test_bundled_line_reader_reads_composed_numbers():
    reader, rng = load_line_reader(), np.random.default_rng(5)
    read_right = counted_right = 0
    for _ in range(20):
        labels = [int(d) for d in rng.integers(0, 10, int(rng.integers(3, 7)))]
        gaps = [None if rng.random() < 0.3 else int(rng.integers(8, 16)) for _ in labels[1:]]  # None: touching
        digits = reader.read(clean_ink(compose(labels, gaps, seed=int(rng.integers(5)))[0]))[0]
        read_right += digits == labels
        counted_right += len(digits) == len(labels)
    assert counted_right >= 19  # counting is what `read` weighs it for
    assert read_right >= 17  # it may read the classic ៥ as one of the ៤ styles; the classifier reads it right


@pytest.fixture(scope="module")
def models():
    return load_classifier(), load_verifier()


def test_read_with_the_line_reader(models):
    gray, boxes = compose([4, 1, 0, 7], [None, 12, None])
    reading = read_number(gray, *models, line_reader=load_line_reader())
    assert reading.arabic == "4107" and not reading.uncertain
    assert_boxes([d.box for d in reading.digits], boxes, tolerance=4)

    segmentation = segment(gray)
    candidates = score_candidates(segmentation, segmentation.groups(), *models)
    weights = SplitWeights()
    assert len(candidates.best_split_of_length(weights, 3, [4, 1, 0])) == 3  # as many digits as the line reader reads
    too_many = [1] * segmentation.count  # more digits than the cuts allow
    assert candidates.best_split_of_length(weights, len(too_many), too_many) is None
