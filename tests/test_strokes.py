"""Tests for the pen-stroke digit model."""

from itertools import combinations

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from khmerdigit.data.strokes import DIGIT_STROKES, DIGIT_STYLES, render_digit, render_digit_variant, styles


def _ink(img: Image.Image) -> np.ndarray:
    """Ink amount per pixel in [0, 1]."""
    return 1 - np.asarray(img, dtype=float) / 255


def _samples(seed: int, n: int, size: int = 16, variant: str | None = None) -> np.ndarray:
    """(10, n, size*size) ink vectors of n renders of each digit, downsampled to size."""
    rng = np.random.default_rng(seed)
    return np.array([[_ink(render_digit(d, rng, variant=variant).resize((size, size), Image.Resampling.BOX)).ravel()
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
    a, b = (_samples(seed, 80).mean(axis=1).reshape(10, 16, 16) for seed in (0, 2))
    for d in range(1, 10):  # ០ is nearly symmetric
        same = np.abs(a[d] - b[d]).mean()
        mirrored = np.abs(a[d] - b[d][:, ::-1]).mean()
        assert mirrored > 1.2 * same, d


def test_every_digit_has_several_named_styles_classic_first():
    assert sorted(DIGIT_STYLES) == list(range(10))
    for digit in range(10):
        assert len(styles(digit)) >= 4, digit
        assert DIGIT_STYLES[digit][styles(digit)[0]] == DIGIT_STROKES[digit]


@pytest.mark.parametrize("digit", range(10))
def test_every_style_renders_one_digit_sized_blob(digit):
    for style in styles(digit):
        rng = np.random.default_rng([digit, 3])
        for _ in range(4):
            img, name = render_digit_variant(digit, rng, 64, variant=style)
            assert name == style and img.size == (64, 64) and img.mode == "L"
            ink = _ink(img)
            assert 0.03 < ink.mean() < 0.4, style
            mask = ink > 0.3
            rows, cols = np.nonzero(mask)
            extent = max(np.ptp(rows), np.ptp(cols)) + 1
            assert 0.45 * 64 <= extent <= 0.95 * 64, style
            # one mark: nearly all ink in one piece once gaps of a pen width or so are closed
            # (a pen lift leaves a small gap, never a second mark)
            labels, count = ndimage.label(ndimage.binary_dilation(mask, iterations=5))
            biggest = np.bincount(labels[mask])[1:].max()
            assert biggest >= 0.85 * mask.sum(), (style, count)


def test_random_style_is_reported_and_every_style_gets_drawn():
    rng = np.random.default_rng(0)
    for digit in range(10):
        drawn = {render_digit_variant(digit, rng, 28)[1] for _ in range(60)}
        assert drawn == set(styles(digit)), digit


def test_style_is_seeded_and_named_styles_differ():
    one = render_digit_variant(9, np.random.default_rng(5))
    again = render_digit_variant(9, np.random.default_rng(5))
    assert one[1] == again[1] and np.array_equal(np.asarray(one[0]), np.asarray(again[0]))
    a, b = (_ink(render_digit(9, np.random.default_rng(5), variant=v)) for v in ("classic", "looped"))
    assert np.abs(a - b).mean() > 0.02


def test_unknown_style_is_refused():
    with pytest.raises(ValueError, match="no style"):
        render_digit(2, np.random.default_rng(0), variant="cursive")


def test_strokes_vary_within_a_style_not_only_the_whole_image():
    """Two renders of one style differ after normalising position and size: the strokes themselves vary."""
    def normalised(seed):
        ink = _ink(render_digit(2, np.random.default_rng(seed), 64, variant="round"))
        rows, cols = np.nonzero(ink > 0.3)
        crop = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
        return np.asarray(Image.fromarray(crop.astype(np.float32), "F").resize((24, 24)))

    shapes = [normalised(seed) for seed in range(6)]
    diffs = [np.abs(a - b).mean() for a, b in combinations(shapes, 2)]
    assert min(diffs) > 0.03
