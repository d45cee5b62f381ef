"""Lines that are not writing: boxes drawn around digits (form fields), underlines, ruled and squared paper."""

import numpy as np
import pytest

from khmerdigit.data.strokes import render_digit, styles
from khmerdigit.runtime.preprocess import INK_THRESHOLD, PreprocessConfig, ink_map, preprocess
from khmerdigit.runtime.ruling import remove_ruling
from tests.helpers import digit_image

CONFIG = PreprocessConfig(size=32)


def on_page(label: int, margin: int = 16) -> np.ndarray:
    digit = np.asarray(digit_image(label, size=48), np.float32) / 255.0
    return np.pad(digit, margin, constant_values=1.0)


def boxed(page: np.ndarray, inset: int, thickness: int = 2, shade: float = 0.2) -> np.ndarray:
    """`page` with a box drawn `inset` pixels inside its edges (0: a form cell cropped on its lines)."""
    out = page.copy()
    far = inset + thickness
    out[inset:far, inset:-inset or None] = out[-far : -inset or None, inset:-inset or None] = shade
    out[inset:-inset or None, inset:far] = out[inset:-inset or None, -far : -inset or None] = shade
    return out


def unchanged(gray: np.ndarray, paper: bool = False) -> bool:
    ink = ink_map(gray)
    return np.array_equal(remove_ruling(ink, ink > INK_THRESHOLD, paper), ink)


@pytest.mark.parametrize("label", [0, 4, 5, 8])
def test_a_digit_in_a_box_preprocesses_as_without_it(label):
    page = on_page(label)
    plain = preprocess(page, CONFIG)
    for framed in (boxed(page, 6), boxed(page, 0), boxed(page, 10, thickness=1, shade=0.5)):
        assert not unchanged(framed)
        assert np.abs(preprocess(framed, CONFIG) - plain).mean() < 0.01


def lined(page: np.ndarray, row: int, thickness: int = 2, shade: float = 0.2) -> np.ndarray:
    """`page` with a line drawn across it at `row` (an underline, a form's line)."""
    out = page.copy()
    out[row : row + thickness, 4:-4] = shade
    return out


@pytest.mark.parametrize("label", range(10))
def test_a_line_under_or_over_a_digit_is_erased(label):
    page = on_page(label)
    rows = np.flatnonzero((page < 0.75).any(axis=1))
    plain = preprocess(page, CONFIG)
    apart = [lined(page, rows.max() + 4), lined(page, rows.min() - 6, thickness=1, shade=0.5)]
    touching = [lined(page, rows.max() - 1)] if label in (0, 1, 3, 7, 9) else []  # not flat-bottomed
    for underlined in apart + touching:
        assert not unchanged(underlined)
        assert np.abs(preprocess(underlined, CONFIG) - plain).mean() < 0.01


@pytest.mark.parametrize("size", [28, 64, 160])
def test_digits_are_never_taken_for_boxes_or_lines(size):
    """Every style of every digit: its loops, bowls and straight strokes stay, in a tight crop (single digits
    keep paper lines) and with a margin (numbers lose them)."""
    rng = np.random.default_rng(size)
    for label in range(10):
        for style in styles(label):
            digit = np.asarray(render_digit(label, rng, size, style), np.float32) / 255.0
            rows, cols = np.nonzero(digit < 0.75)
            tight = digit[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
            assert unchanged(digit) and unchanged(digit, paper=True) and unchanged(tight), (label, style)


def test_an_empty_box_or_a_boxy_zero_is_writing():
    """A box holds other ink: a square drawn alone (a ០ or ៤ written boxy) is kept."""
    square = np.ones((80, 80), np.float32)
    square[10:70, 10:70] = 0.1
    square[13:67, 13:67] = 1.0
    assert unchanged(square)
    assert unchanged(np.pad(square, 20, constant_values=1.0))
