"""predict: warnings for images that are not one digit, calibrated confidence."""

import csv
import io
import json

import numpy as np
import pytest
from PIL import Image

from khmerdigit.runtime.classifier import digit_sized_marks, with_temperature
from khmerdigit.runtime.preprocess import digit_ink
from tests.helpers import compose, digit_image, run


def test_predict_says_when_an_image_holds_a_number(tmp_path):
    number, _ = compose([2, 0, 2, 5], [14, 12, 16])
    assert digit_sized_marks(digit_ink(number)) == 4
    tight, _ = compose([2, 0, 2, 5], [3, 3, 3])  # closer than a pen lift, as printed digits sit: one wide mark
    assert digit_sized_marks(digit_ink(tight)) >= 3
    for label in range(10):
        assert digit_sized_marks(digit_ink(np.asarray(digit_image(label, 3), np.float32) / 255)) == 1, label
    Image.fromarray(np.round(number * 255).astype(np.uint8)).save(tmp_path / "number.png")
    digit_image(7, 1).save(tmp_path / "digit.png")
    result = run("predict", tmp_path, "--json")
    records = {r["file"].rsplit("/", 1)[-1]: r for r in json.loads(result.stdout)}
    assert "khmerdigit read" in records["number.png"]["warning"] and records["digit.png"]["warning"] is None
    assert result.stderr.count("warning:") == 1 and "number.png" in result.stderr
    rows = {r["file"].rsplit("/", 1)[-1]: r for r in csv.DictReader(io.StringIO(run("predict", tmp_path, "--csv").stdout))}
    assert rows["number.png"]["warning"] == records["number.png"]["warning"] and rows["digit.png"]["warning"] == ""


def test_temperature_softens_or_sharpens_without_changing_the_answer():
    p = np.array([[0.7, 0.2, 0.1], [0.05, 0.9, 0.05]])
    soft, sharp = with_temperature(p, 2.0), with_temperature(p, 0.5)
    assert np.allclose(soft.sum(1), 1) and np.allclose(sharp.sum(1), 1)
    assert (soft.argmax(1) == p.argmax(1)).all() and (sharp.argmax(1) == p.argmax(1)).all()
    assert (soft.max(1) < p.max(1)).all() and (sharp.max(1) > p.max(1)).all()
    assert with_temperature(p, 1.0) is p


def test_views_turn_and_scale_a_digit_about_its_centre():
    from scipy import ndimage

    from khmerdigit.runtime.classifier import view

    batch = np.random.default_rng(0).random((3, 32, 32, 1)).astype(np.float32)
    assert view(batch, 0.0, 1.0) is batch
    turned = np.stack([ndimage.rotate(image[..., 0], -8, reshape=False, order=1) for image in batch])[..., None]
    assert np.abs(view(batch, 8.0, 1.0) - turned)[:, 2:-2, 2:-2].max() < 1e-5
    dot = np.zeros((1, 32, 32, 1), np.float32)
    dot[0, 15:17, 21:23] = 1.0  # a dot 6 pixels right of the centre moves 10 % further out when scaled 1.1
    rows, cols = np.nonzero(view(dot, 0.0, 1.1)[0, ..., 0] > 0.5)
    assert abs(cols.mean() - (15.5 + 1.1 * 6)) < 0.5 and abs(rows.mean() - 15.5) < 0.5


def test_a_model_averages_its_views_with_its_temperature(tmp_path):
    import shutil

    from khmerdigit.fileio import read_json, write_json
    from khmerdigit.runtime.classifier import VIEWS, Classifier, view
    from khmerdigit.runtime.preprocess import preprocess
    from khmerdigit.runtime.registry import BUNDLED_MODEL, metadata_path

    for views in (1, 3):
        shutil.copy(BUNDLED_MODEL, tmp_path / f"v{views}.tflite")
        metadata = read_json(metadata_path(BUNDLED_MODEL))
        write_json(tmp_path / f"v{views}.json", {**metadata, "views": views, "temperature": 0.7})
    one, three = Classifier(tmp_path / "v1.tflite"), Classifier(tmp_path / "v3.tflite")
    digits = np.stack([preprocess(digit_image(label, 2), one.config) for label in range(10)])
    scribbles = np.random.default_rng(1).random((10, *digits.shape[1:])).astype(np.float32) ** 4  # not sure of these
    batch = np.concatenate([digits, scribbles])
    expected = np.mean([one.probabilities(view(batch, *v)) for v in VIEWS[:3]], axis=0)
    assert np.allclose(three.probabilities(batch), expected, atol=1e-5)
    assert not np.allclose(three.probabilities(batch), one.probabilities(batch), atol=1e-3)


def test_a_model_with_impossible_views_is_refused(tmp_path):
    import shutil

    from khmerdigit import KhmerDigitError
    from khmerdigit.fileio import read_json, write_json
    from khmerdigit.runtime.classifier import Classifier
    from khmerdigit.runtime.registry import BUNDLED_MODEL, metadata_path

    shutil.copy(BUNDLED_MODEL, tmp_path / "model.tflite")
    write_json(tmp_path / "model.json", {**read_json(metadata_path(BUNDLED_MODEL)), "views": 0})
    with pytest.raises(KhmerDigitError, match="views"):
        Classifier(tmp_path / "model.tflite")


def test_one_classifier_and_one_reader_shared_by_threads_give_the_answers_they_give_alone():
    from concurrent.futures import ThreadPoolExecutor

    from khmerdigit.reading.reader import load_number_reader
    from khmerdigit.runtime.classifier import load_classifier

    classifier, reader = load_classifier(), load_number_reader()
    digits = [digit_image(label, seed) for label in range(10) for seed in range(3)]
    numbers = [compose(list(map(int, f"{seed:04d}"[::-1])), [12, 14, 10], seed)[0] for seed in range(1234, 1244)]
    alone = [next(classifier.predict([image])).to_dict() for image in digits]
    alone_read = [reader.read(number).to_dict() for number in numbers]
    with ThreadPoolExecutor(8) as pool:  # a web app's thread pool sharing the loaded models
        shared = list(pool.map(lambda image: next(classifier.predict([image])).to_dict(), digits * 3))
        shared_read = list(pool.map(lambda number: reader.read(number).to_dict(), numbers * 3))
    assert shared == alone * 3 and shared_read == alone_read * 3


def test_predict_and_read_take_one_image_as_a_path_a_pil_image_or_an_open_file(tmp_path):
    from khmerdigit.reading.reader import load_number_reader
    from khmerdigit.runtime.classifier import load_classifier
    from khmerdigit.runtime.preprocess import BadImageError

    classifier, reader = load_classifier(), load_number_reader()
    image = digit_image(3, 1)
    image.save(tmp_path / "three.png")
    expected = next(classifier.predict([image])).to_dict()
    for one in (str(tmp_path / "three.png"), tmp_path / "three.png", image, open(tmp_path / "three.png", "rb")):
        results = list(classifier.predict(one))  # a path string was once taken for a list of one-letter files
        assert len(results) == 1 and {**results[0].to_dict(), "file": None} == {**expected, "file": None}, one
    with open(tmp_path / "three.png", "rb") as handle:
        assert reader.read(io.BytesIO(handle.read())).arabic == reader.read(tmp_path / "three.png").arabic == "3"
    with pytest.raises(BadImageError, match="cannot read a list"):
        reader.read([image])


def test_a_digit_below_the_threshold_is_marked_uncertain_and_strict_exits_2(tmp_path):
    digit_image(4, 2).save(tmp_path / "four.png")
    sure = json.loads(run("predict", tmp_path / "four.png", "--json").stdout)[0]
    assert sure["uncertain"] is False and sure["threshold"] == 0.9 and sure["confidence"] >= 0.9
    result = run("predict", tmp_path / "four.png", "--json", "--threshold", "1.0", "--strict")
    unsure = json.loads(result.stdout)[0]
    assert result.exit_code == 2 and unsure["uncertain"] is True and unsure["threshold"] == 1.0
    row = next(csv.DictReader(io.StringIO(run("predict", tmp_path / "four.png", "--csv", "--threshold", "1.0").stdout)))
    assert row["uncertain"] == "true"
    assert "uncertain" in run("predict", tmp_path / "four.png", "--threshold", "1.0").stdout


def test_a_large_batch_runs_in_parts_with_the_same_results():
    from khmerdigit.runtime.registry import DIGITS
    from khmerdigit.runtime.runners import MAX_BATCH, LiteRTRunner

    runner = LiteRTRunner(DIGITS.bundled)
    batch = np.random.default_rng(0).random((2 * MAX_BATCH + 7, *runner.input["shape"][1:]), dtype=np.float32)
    together = runner(batch)  # a cut search asked for thousands at once: GBs of activations in one call
    assert together.shape[0] == len(batch) and runner.batch_size <= MAX_BATCH
    for index in (0, MAX_BATCH, len(batch) - 1):
        assert np.allclose(together[index], runner(batch[index : index + 1])[0], atol=1e-6)
