"""Training distortions: pen lifts and small writing, and the seeded `distort` built from them."""

import numpy as np

from khmerdigit.augment import break_stroke, distort, low_resolution
from khmerdigit.preprocess import ink_map
from tests.conftest import digit_image


def ink_of(label: int) -> np.ndarray:
    return np.pad(ink_map(np.asarray(digit_image(label, size=64), np.float32) / 255.0), 8)


def test_break_stroke_erases_one_round_piece_of_stroke():
    ink = ink_of(3)
    broken = break_stroke(ink, np.random.default_rng(1))
    erased = np.argwhere(broken != ink)
    assert 0 < len(erased) < 0.3 * (ink > 0.5).sum()
    assert (broken[broken != ink] == 0).all()  # only erases
    centre = erased.mean(axis=0)
    radius = np.sqrt(len(erased) / np.pi)  # a disc this size would hold every erased pixel...
    assert np.hypot(*(erased - centre).T).max() < 3 * radius + 2  # ...so they lie together, not scattered


def test_break_stroke_leaves_faint_ink_alone():
    faint = np.full((20, 20), 0.4, np.float32)
    assert np.array_equal(break_stroke(faint, np.random.default_rng(0)), faint)


def test_low_resolution_keeps_the_shape_and_loses_fine_detail():
    ink = ink_of(8)
    small = low_resolution(ink, 0.4)
    assert small.shape == ink.shape
    assert np.corrcoef(ink.ravel(), small.ravel())[0, 1] > 0.8
    stripes = np.tile([0.0, 1.0], (32, 16)).astype(np.float32)  # one-pixel stripes do not survive
    assert np.ptp(low_resolution(stripes, 0.4)[8:-8, 8:-8]) < 0.5


def test_distort_is_seeded():
    gray = np.asarray(digit_image(5), np.float32) / 255.0
    first, again = (distort(gray, np.random.default_rng(7)) for _ in range(2))
    assert np.array_equal(first, again)
    assert not np.array_equal(first, distort(gray, np.random.default_rng(8)))
