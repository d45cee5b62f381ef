"""Tests for the pen-stroke digit model."""

from itertools import combinations

import numpy as np
import pytest
from PIL import Image

from khmerdigit.strokes import DIGIT_STROKES, render_digit


def _ink(img: Image.Image) -> np.ndarray:
    """Ink amount per pixel in [0, 1]."""
    return 1 - np.asarray(img, dtype=float) / 255


def _samples(seed: int, n: int, size: int = 16) -> np.ndarray:
    """(10, n, size*size) ink vectors of n renders of each digit, downsampled to size."""
    rng = np.random.default_rng(seed)
    return np.array([[_ink(render_digit(d, rng).resize((size, size), Image.Resampling.BOX)).ravel()
                      for _ in range(n)] for d in range(10)])


def test_all_ten_digits_defined():
    assert sorted(DIGIT_STROKES) == list(range(10))


@pytest.mark.parametrize("size", [28, 64, 96])
@pytest.mark.parametrize("digit", range(10))
def test_renders_sensible_ink_inside_the_box(digit, size):
    rng = np.random.default_rng(digit)
    for _ in range(5):
        img = render_digit(digit, rng, size=size)
        assert img.mode == "L" and img.size == (size, size)
        ink = _ink(img)
        assert 0.03 < ink.mean() < 0.4
        assert ink.max() > 0.7 and np.percentile(ink, 10) < 0.05  # dark ink on white
        rows, cols = np.nonzero(ink > 0.3)
        extent = max(np.ptp(rows), np.ptp(cols)) + 1
        assert 0.45 * size <= extent <= 0.95 * size
        assert rows.min() > 0 and cols.min() > 0 and rows.max() < size - 1 and cols.max() < size - 1


def test_same_seed_same_pixels_different_seed_different_pixels():
    def render(seed):
        return [np.asarray(render_digit(d, np.random.default_rng(seed))) for d in range(10)]

    a, b, c = render(7), render(7), render(8)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert all(not np.array_equal(x, z) for x, z in zip(a, c))


def test_digits_differ_on_average_and_are_separable():
    train, test = _samples(0, 30), _samples(1, 15)
    means = train.mean(axis=1)
    for a, b in combinations(range(10), 2):
        assert np.abs(means[a] - means[b]).mean() > 0.02, (a, b)
    # a nearest-mean classifier on fresh samples must beat chance (0.1) by far
    dist = ((test[:, :, None, :] - means[None, None]) ** 2).sum(-1)
    assert (dist.argmin(-1) == np.arange(10)[:, None]).mean() > 0.5


def test_never_mirrored():
    a, b = (_samples(seed, 30).mean(axis=1).reshape(10, 16, 16) for seed in (0, 2))
    for d in range(1, 10):  # ០ is nearly symmetric
        same = np.abs(a[d] - b[d]).mean()
        mirrored = np.abs(a[d] - b[d][:, ::-1]).mean()
        assert mirrored > 1.2 * same, d
