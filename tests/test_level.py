"""A number written or photographed at a tilt: its baseline's tilt, the levelled image, reading it."""

import numpy as np
import pytest
from scipy import ndimage

from khmerdigit.reading.level import baseline_tilt, levelled
from khmerdigit.reading.reader import load_number_reader
from khmerdigit.reading.segment import Box, clean_ink, mask_box
from tests.helpers import compose

LABELS = [2, 9, 6, 1, 5]


def turned(gray: np.ndarray, degrees: float) -> np.ndarray:
    """The image turned counter-clockwise by `degrees` (a baseline then rises to the right), paper around it."""
    return ndimage.rotate(gray, degrees, reshape=True, order=1, mode="constant", cval=1.0)


def digit_boxes_turned(gray: np.ndarray, boxes: list[Box], degrees: float) -> list[Box]:
    """Each digit's box in the turned image: the box around its turned ink."""
    found = []
    for box in boxes:
        ink = np.zeros(gray.shape, np.float32)
        ink[box.top : box.bottom, box.left : box.right] = gray[box.top : box.bottom, box.left : box.right] < 0.5
        found.append(mask_box(turned(1.0 - ink, degrees) < 0.5))
    return found


@pytest.fixture(scope="module")
def reader():
    return load_number_reader()


@pytest.mark.parametrize("degrees", [-12, 6, 15])
def test_the_tilt_of_a_turned_number_is_found(degrees):
    gray, _ = compose(LABELS, [12, 12, 12, 12])
    slope = baseline_tilt(clean_ink(turned(gray, degrees)))
    assert abs(np.degrees(np.arctan(slope)) + degrees) <= 2  # turned counter-clockwise: rising, so negative


def test_a_level_number_or_a_single_digit_has_no_tilt():
    for labels, gaps in ((LABELS, [12, 12, 12, 12]), ([4, 7], [10]), ([8], [])):
        gray, _ = compose(labels, gaps)
        assert baseline_tilt(clean_ink(gray)) == 0.0
    one, _ = compose([3], [])
    assert baseline_tilt(clean_ink(turned(one, 12))) == 0.0  # a lone digit: no baseline


def test_levelling_turns_the_baseline_level_and_maps_boxes_back():
    gray, _ = compose(LABELS, [12, 12, 12, 12])
    tilted = turned(gray, -10)  # falling to the right
    slope = baseline_tilt(clean_ink(tilted))
    level, _ = levelled(tilted, slope)
    assert baseline_tilt(clean_ink(level)) == 0.0
    page = np.ones((120, 300), np.float32)
    page[30:33, 250:253] = 0.0  # a dot near the top right corner
    level, box_in_image = levelled(page, slope)
    rows, cols = np.nonzero(level < 0.5)
    mapped = box_in_image(Box(int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1))
    assert mapped.left <= 251 < mapped.right and mapped.top <= 31 < mapped.bottom
    assert mapped.width <= 6 and mapped.height <= 6


@pytest.mark.parametrize("labels, degrees", [([2, 9, 6, 1, 3], 15), ([2, 9, 6, 1, 3], 20), ([7, 2, 9, 0, 6], -20)])
def test_a_tilted_number_reads_as_a_level_one_with_boxes_on_its_digits(reader, labels, degrees):
    """Read as they are, these turned numbers lose a digit (2713, 2613, 7206)."""
    gray, boxes = compose(labels, [12] * (len(labels) - 1))
    tilted = turned(gray, degrees)
    reading = reader.read(tilted)
    assert reading.arabic == "".join(map(str, labels))
    assert reading.image_size == (tilted.shape[1], tilted.shape[0])
    for found, truth in zip([digit.box for digit in reading.digits], digit_boxes_turned(gray, boxes, degrees)):
        # the box around the levelled digit's box, turned back: around the digit, and not much more
        assert found.left <= truth.left + 2 and found.top <= truth.top + 2, (found, truth)
        assert found.right >= truth.right - 2 and found.bottom >= truth.bottom - 2, (found, truth)
        turn = abs(np.sin(np.deg2rad(degrees)))  # a box turned grows by the other side's length times this
        assert found.width <= truth.width + turn * truth.height + 6, (found, truth)
        assert found.height <= truth.height + turn * truth.width + 6, (found, truth)
