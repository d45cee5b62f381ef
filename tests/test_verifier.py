"""The whole-digit verifier: labelled candidates from composed numbers, training, saving, export, loading."""

import numpy as np
import pytest
from scipy import ndimage

from khmerdigit import KhmerDigitError
from khmerdigit.data.compose import compose_number, stroke_digits
from khmerdigit.reading.segment import segment
from khmerdigit.reading.verifier import load_verifier
from khmerdigit.runtime.classifier import Classifier
from khmerdigit.runtime.registry import BUNDLED_MODEL, WHOLE_DIGIT
from khmerdigit.train.export import export_tflite
from khmerdigit.train.verifier import refine_verifier, train_verifier
from khmerdigit.train.verifier_data import (
    HARD_NEGATIVES_PER_NUMBER,
    MERGED,
    PART,
    WHOLE,
    CandidateScorer,
    candidate_match,
    digit_shares,
    number_examples,
    verifier_examples,
)


@pytest.fixture(scope="module")
def pools():
    return [stroke_digits(4, np.random.default_rng(0))]


def composed(pools, digits, touching, seed):
    rng = np.random.default_rng(seed)
    gray, masks = compose_number([pools[0][d][i % 4] for i, d in enumerate(digits)], touching, rng)
    segmentation = segment(gray)
    groups = segmentation.groups()
    return segmentation, groups, candidate_match(segmentation, groups, masks), masks


def coverage(segmentation, group, masks) -> np.ndarray:
    """Share of each digit's pixels that a candidate holds (give or take two pixels)."""
    near = ndimage.binary_dilation(segmentation.mask(*group), iterations=2)
    return np.array([(near & mask).sum() / mask.sum() for mask in masks])


@pytest.mark.parametrize("touching", [0.0, 1.0])
def test_candidates_are_whole_only_when_they_hold_exactly_one_digit(pools, touching):
    segmentation, groups, match, masks = composed(pools, [4, 0, 7, 3], touching, seed=5)
    covered = np.array([coverage(segmentation, group, masks) for group in groups])
    for shares, score in zip(covered, match):
        # most of one digit and little of the others (touching digits share the pixels near their joint)
        if score >= WHOLE:
            assert np.sort(shares)[-1] > 0.8 and np.sort(shares)[-2] < 0.4, shares
        # two whole digits are never one whole digit (a big one with a small one may be too close to call)
        if (shares > 0.8).sum() >= 2:
            assert score < WHOLE, shares
    if touching == 0:  # every digit is among the candidates, as a whole one
        assert all((covered[match >= WHOLE, digit] > 0.8).any() for digit in range(len(masks)))


def test_merged_digits_are_found(pools):
    segmentation, groups, match, masks = composed(pools, [4, 0, 7, 3], 1.0, seed=5)
    merged = (digit_shares(segmentation, groups, masks)[1] >= MERGED).sum(axis=1) >= 2
    covered = np.array([coverage(segmentation, group, masks) for group in groups])
    holds_two = (covered > 0.8).sum(axis=1) >= 2
    assert holds_two.any() and merged[holds_two].all()  # every candidate holding two whole digits is a merge
    assert ((covered[merged] > 0.5).sum(axis=1) >= 2).all() and (match[merged] < WHOLE).all()


def test_examples_are_seeded_and_the_same_with_worker_processes(pools):
    x, y = verifier_examples(pools, 4, seed=3)
    x2, y2 = verifier_examples(pools, 4, seed=3, workers=2)
    assert x.shape[1:] == (40, 40, 2) and x.dtype == np.float16 and set(np.unique(y)) == {0.0, 1.0}
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    with pytest.raises(KhmerDigitError):
        verifier_examples([{d: [] for d in range(10)}], 2)


def test_a_reader_adds_hard_negatives(pools):
    reader = CandidateScorer(BUNDLED_MODEL, WHOLE_DIGIT.bundled)
    added = 0
    for number in range(3):
        x, y = number_examples(pools, (7, number))
        x_hard, y_hard = number_examples(pools, (7, number), reader)
        assert np.array_equal(x_hard[: len(x)], x) and np.array_equal(y_hard[: len(y)], y)
        assert len(y_hard) - len(y) <= HARD_NEGATIVES_PER_NUMBER and not y_hard[len(y) :].any()
        added += len(y_hard) - len(y)
    assert added > 0
    x, y = verifier_examples(pools, 3, seed=7, reader=reader)
    x2, y2 = verifier_examples(pools, 3, seed=7, workers=2, reader=reader)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)


def test_trained_verifier_saves_loads_and_exports(pools, tmp_path):
    result = train_verifier(pools, tmp_path / "verifier.keras", numbers=20, epochs=1, workers=1)
    assert result.examples > 0 and 0 < result.whole_share < 1 and result.epochs == 1
    verifier = load_verifier(result.model)
    assert verifier.metadata["task"] == "whole-digit" and verifier.metadata["parameters"] > 0
    segmentation, groups, _, _ = composed(pools, [1, 2, 3], 0.5, seed=1)
    whole = verifier.whole_probabilities(segmentation, groups)
    assert whole.shape == (len(groups),) and ((whole >= 0) & (whole <= 1)).all()

    export_tflite(result.model, tmp_path / "verifier.tflite", quantize="dynamic")
    exported = load_verifier(tmp_path / "verifier.tflite").whole_probabilities(segmentation, groups)
    np.testing.assert_allclose(exported, whole, atol=0.02)

    refined = refine_verifier(pools, CandidateScorer(BUNDLED_MODEL, tmp_path / "verifier.tflite"), result.model,
                              tmp_path / "refined.keras", numbers=10, epochs=1, workers=1)
    assert refined.examples > 0 and load_verifier(refined.model).whole_probabilities(segmentation, groups).shape == \
        whole.shape


def test_bundled_verifier_tells_whole_digits_from_other_candidates(pools):
    verifier = load_verifier()
    correct = total = 0
    for seed, touching in enumerate([0.0, 0.5, 1.0]):
        segmentation, groups, match, _ = composed(pools, [5, 9, 2, 6, 8], touching, seed)
        known = (match >= WHOLE) | (match < PART)
        whole = verifier.whole_probabilities(segmentation, [g for g, k in zip(groups, known) if k])
        correct += int(((whole > 0.5) == (match[known] >= WHOLE)).sum())
        total += int(known.sum())
    assert correct / total > 0.85


def test_models_are_not_mixed_up():
    with pytest.raises(KhmerDigitError, match="not a whole-digit model"):
        load_verifier(BUNDLED_MODEL)
    with pytest.raises(KhmerDigitError, match="not a digits model"):
        Classifier(WHOLE_DIGIT.bundled)
    with pytest.raises(KhmerDigitError, match="not found"):
        load_verifier(WHOLE_DIGIT.bundled.with_name("missing.tflite"))
