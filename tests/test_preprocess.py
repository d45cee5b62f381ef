import io

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from khmerdigit.runtime.preprocess import (
    BadImageError,
    PreprocessConfig,
    ink_map,
    open_image,
    preprocess,
    preprocess_ink,
)
from tests.helpers import compose, digit_image

CONFIG = PreprocessConfig(size=32)


def close(a, b, tolerance=0.03):
    return float(np.abs(a - b).mean()) < tolerance


def test_output_shape_range_and_dtype():
    out = preprocess(digit_image(3), CONFIG)
    assert out.shape == (32, 32, 1) and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0 and out.max() > 0.9


def test_polarity_light_on_dark_matches_dark_on_light():
    image = digit_image(5)
    inverted = Image.eval(image, lambda v: 255 - v)
    assert close(preprocess(image, CONFIG), preprocess(inverted, CONFIG))


def test_low_contrast_grey_paper_matches():
    image = digit_image(7)
    faded = Image.eval(image, lambda v: 110 + v * 100 // 255)  # grey ink on grey paper
    assert close(preprocess(image, CONFIG), preprocess(faded, CONFIG), 0.05)


def test_an_ink_map_is_preprocessed_as_its_image_is():
    gray = np.asarray(digit_image(6), np.float32) / 255.0
    faint = 1.0 - 0.4 * ndimage.gaussian_filter(1.0 - gray, 1.0)  # soft, faint strokes (a screen's anti-aliasing)
    assert np.abs(preprocess_ink(ink_map(faint), CONFIG) - preprocess(faint, CONFIG)).max() < 1e-5


def test_ink_is_measured_against_the_darkest_ink_within_one_image_height():
    gray = np.asarray(digit_image(6), np.float32) / 255.0
    side = gray.shape[0]
    line = np.ones((side, 4 * side), np.float32)
    line[:, :side] = gray
    line[:, 3 * side :] = 1.0 - 0.6 * (1.0 - gray)  # the same digit written faintly, two image heights away
    assert ink_map(line)[:, 3 * side :].max() > 0.95  # as strong as if it were alone
    halves = gray.copy()
    halves[:, side // 2 :] = 1.0 - 0.6 * (1.0 - gray[:, side // 2 :])  # one digit, its right half faint
    assert ink_map(halves)[:, side // 2 :].max() < 0.6  # within one digit, the whole digit is the measure


def test_bold_writing_cropped_tightly_is_still_dark_ink_on_paper():
    """A marker-drawn digit cropped to its ink covers most of the image: the median shade is ink, but the
    corners are paper."""
    for label in (0, 1, 3, 8):
        bold = ndimage.grey_erosion(np.asarray(digit_image(label, size=48), np.float32) / 255.0, size=(5, 5))
        rows, cols = np.nonzero(bold < 0.5)
        tight = bold[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
        assert np.median(tight) < 0.5  # more ink than paper
        assert close(preprocess(tight, CONFIG), preprocess(bold, CONFIG), 0.04), label


def test_rgba_transparent_canvas_is_composited_on_white():
    ink = np.asarray(digit_image(2))
    rgba = np.zeros(ink.shape + (4,), np.uint8)
    rgba[..., 3] = 255 - ink  # black strokes, alpha only where drawn
    assert close(preprocess(Image.fromarray(rgba, "RGBA"), CONFIG), preprocess(digit_image(2), CONFIG))


def test_palette_16bit_cmyk_and_la_modes_agree():
    image = digit_image(4)
    reference = preprocess(image, CONFIG)
    sixteen = Image.fromarray(np.asarray(image).astype(np.uint16) * 257)
    for variant in (image.convert("P"), sixteen, image.convert("CMYK"), image.convert("LA"), image.convert("RGB")):
        assert close(preprocess(variant, CONFIG), reference), variant.mode


def test_exif_orientation_is_applied():
    image = digit_image(6).convert("RGB")
    rotated = image.rotate(90, expand=True)  # stored sideways, EXIF says "rotate 270 to view"
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    rotated.save(buffer, "JPEG", exif=exif.tobytes(), quality=95)
    assert close(preprocess(buffer.getvalue(), CONFIG), preprocess(image, CONFIG), 0.05)


def test_off_centre_and_scaled_digit_is_centred():
    image = digit_image(8)
    canvas = Image.new("L", (300, 200), 255)
    canvas.paste(image.resize((96, 96)), (190, 90))
    assert close(preprocess(canvas, CONFIG), preprocess(image, CONFIG), 0.06)


def test_specks_are_ignored():
    image = digit_image(1, size=64)
    dirty = image.copy()
    dirty.putpixel((2, 2), 0)
    dirty.putpixel((60, 61), 0)
    assert close(preprocess(dirty, CONFIG), preprocess(image, CONFIG))


@pytest.mark.parametrize("size", [(1, 1), (3, 2), (4000, 3000)])
def test_tiny_and_huge_images_do_not_fail(size):
    image = Image.new("L", size, 255)
    image.paste(0, (0, 0, max(1, size[0] // 3), max(1, size[1] // 3)))
    out = preprocess(image, CONFIG)
    assert out.shape == (32, 32, 1) and np.isfinite(out).all()


def test_blank_image_gives_empty_input():
    assert preprocess(Image.new("L", (40, 40), 255), CONFIG).max() == 0.0


def test_paper_method_resizes_and_inverts():
    image = Image.new("L", (100, 80), 255)
    image.paste(0, (0, 0, 50, 80))
    out = preprocess(image, PreprocessConfig(size=64, method="paper"))
    assert out.shape == (64, 64, 1)
    assert out[:, :30].mean() > 0.95 and out[:, 34:].mean() < 0.05


def test_broken_inputs_raise_bad_image(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "text.png").write_text("not an image")
    buffer = io.BytesIO()
    digit_image(0).save(buffer, "PNG")
    (tmp_path / "truncated.png").write_bytes(buffer.getvalue()[:60])
    for name in ("empty.png", "text.png", "truncated.png", "missing.png"):
        with pytest.raises(BadImageError):
            open_image(tmp_path / name)


def test_decompression_bomb_is_refused():
    buffer = io.BytesIO()
    Image.new("1", (12000, 12000)).save(buffer, "PNG")  # 144 Mpixel declared, tiny file
    with pytest.raises(BadImageError, match="too large"):
        open_image(buffer.getvalue())


def test_small_digit_in_a_large_photo_is_found():
    image = digit_image(9)
    canvas = Image.new("L", (640, 480), 235)
    canvas.paste(image.resize((40, 40)), (500, 30))  # under 0.5 % of the pixels are ink
    assert close(preprocess(canvas, CONFIG), preprocess(image, CONFIG), 0.06)


def _shadowed(gray: np.ndarray, depth: float = 0.5) -> np.ndarray:
    """The page darker by `depth` over its right part, with a soft edge a quarter of the way in."""
    cols = np.arange(gray.shape[1]) / gray.shape[1]
    return gray * (1 - depth / (1 + np.exp(-(cols - 0.3) / 0.05)))[None, :]


def test_shadowed_paper_is_flattened_to_the_clean_digit():
    from khmerdigit.runtime.preprocess import flatten_background, ink_map

    for label in (2, 8, 9):
        clean = np.asarray(digit_image(label, size=64), np.float32) / 255.0
        shadowed = _shadowed(clean)
        flat = flatten_background(shadowed)
        paper = flat[clean > 0.95]
        assert np.ptp(np.percentile(paper, [5, 95])) < 0.15  # the shadow is gone from the paper
        before = preprocess(clean, CONFIG)
        assert np.abs(preprocess(shadowed, CONFIG) - before).mean() < 0.03, label
        assert (ink_map(shadowed)[clean > 0.95] > 0.3).mean() < 0.01  # no paper read as ink


def test_evenly_lit_images_are_not_flattened():
    from khmerdigit.runtime.preprocess import flatten_background

    for label in range(10):
        for gray in (np.asarray(digit_image(label, size=48), np.float32) / 255.0,
                     1.0 - np.asarray(digit_image(label, size=28), np.float32) / 255.0):  # either polarity
            assert flatten_background(gray) is gray


def _on_table(page: np.ndarray, top: int, left: int, shade: float = 0.3) -> np.ndarray:
    """The page on a table of this shade (with a faint grain) that shows along its top and left edges."""
    table = shade + 0.02 * np.sin(np.arange(page.shape[1] + left) / 3.0)[None, :]
    canvas = np.repeat(table, page.shape[0] + top, axis=0).astype(np.float32)
    canvas[top:, left:] = page
    return canvas


def test_a_table_along_the_edges_of_a_photo_is_not_ink():
    from khmerdigit.runtime.preprocess import without_surroundings

    for label in (0, 5, 9):
        page = np.ones((96, 96), np.float32)
        page[24:72, 24:72] = np.asarray(digit_image(label, size=48), np.float32) / 255.0
        photo = _on_table(page, 20, 30)
        assert (without_surroundings(photo)[:20] > 0.9).all()  # the table painted in the page's shade
        assert close(preprocess(photo, CONFIG), preprocess(page, CONFIG), 0.02), label
        assert close(preprocess(_on_table(page, 20, 30, shade=0.6), CONFIG), preprocess(page, CONFIG), 0.02), label


def test_a_page_smaller_than_the_table_around_it_is_read_alone():
    number, _ = compose([3, 5, 1, 8], [14, 14, 14])
    page = np.ones((number.shape[0] + 60, number.shape[1] + 60), np.float32) * 0.9
    page[30:-30, 30:-30] = 0.9 * number
    photo = np.full((page.shape[0] * 2, page.shape[1] + 120), 0.35, np.float32)  # the table: most of the photo
    photo[40 : 40 + page.shape[0], 70 : 70 + page.shape[1]] = page
    alone, framed = ink_map(page), ink_map(photo)
    assert framed[40 : 40 + page.shape[0], 70 : 70 + page.shape[1]] == pytest.approx(alone, abs=0.05)
    assert framed.sum() == pytest.approx(alone.sum(), rel=0.02)  # no ink on the table


def test_writing_at_the_edge_is_not_taken_for_a_table():
    from khmerdigit.runtime.preprocess import without_surroundings

    for label in range(10):
        tight = np.asarray(digit_image(label, size=48), np.float32) / 255.0
        rows, cols = np.nonzero(tight < 0.75)
        tight = tight[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]  # strokes touch every edge
        assert without_surroundings(tight) is tight
        bold = ndimage.grey_erosion(tight, size=(5, 5))  # a marker, beside a thin speck of a stroke
        bold[2:4, tight.shape[1] // 2 - 6 : tight.shape[1] // 2 + 6] = 0.0
        assert without_surroundings(bold) is bold
    number, boxes = compose([9, 3, 2, 1], [14, 14, 14])
    number = number[:, boxes[0].left :]  # the first digit at the edge, drawn with a marker: it stays
    number[:, : boxes[0].width] = ndimage.grey_erosion(number[:, : boxes[0].width], size=(7, 7))
    assert without_surroundings(number) is number
    page = np.ones((96, 96), np.float32)
    page[24:72, 24:72] = np.asarray(digit_image(3, size=48), np.float32) / 255.0
    shadowed = _on_table(page, 20, 30)
    shadowed[:, 60:] *= 0.4  # a shadow over the digit, reaching the edge: it holds writing, so it stays
    assert np.array_equal(without_surroundings(shadowed)[:, 60:], shadowed[:, 60:])


def test_a_shadow_sloping_across_a_number_is_not_taken_for_a_table():
    from khmerdigit.runtime.preprocess import without_surroundings

    for labels in ([7, 3, 9, 0], [2, 0, 2, 5]):
        number, _ = compose(labels, [14, 14, 14])
        page = np.ones((number.shape[0] + 40, 2 * number.shape[1]), np.float32)
        page[20:-20, 10 : 10 + number.shape[1]] = number
        for darkest in (0.25, 0.3, 0.35):  # the light falls from dark at the left edge to full at the right
            shadowed = (page * np.linspace(darkest, 1.0, page.shape[1])[None, :]).astype(np.float32)
            assert without_surroundings(shadowed) is shadowed, (labels, darkest)
    assert (without_surroundings(_on_table(page, 20, 30))[:20] > 0.9).all()  # a table's edge is a step


def test_an_array_that_is_no_image_is_a_bad_image():
    for array in (np.zeros(0), np.zeros(5), np.zeros((0, 10)), np.zeros((2, 2, 2, 2)), np.zeros((3, 40, 40))):
        with pytest.raises(BadImageError, match="rows x columns"):  # the last: channels first
            preprocess(array, CONFIG)
    with pytest.raises(BadImageError, match="NaN"):
        preprocess(np.full((40, 40), np.nan), CONFIG)


def test_large_arrays_are_shrunk_as_large_files_are(tmp_path):
    from khmerdigit.runtime.preprocess import WORKING_SIDE, as_gray

    big = np.full((1200, 1600), 230, np.uint8)
    big[500:700, 700:900] = np.asarray(digit_image(4, size=200))
    Image.fromarray(big).save(tmp_path / "big.png")
    from_array, from_file = as_gray(big), as_gray(tmp_path / "big.png")
    assert from_array.shape == from_file.shape == (384, WORKING_SIDE)
    assert np.abs(from_array - from_file).max() <= 1 / 255  # the file is shrunk in 8 bits


def test_a_shadow_darkening_the_top_or_bottom_of_a_number_is_flattened_to_the_edge():
    """A wide image's paper is estimated at the number's scale and followed to the edges: the shaded band
    along the top or bottom is paper, not ink (it used to come back as ink at the far end of the line)."""
    from khmerdigit.runtime.preprocess import ink_map

    number, _ = compose([7, 3, 9, 0], [14, 14, 14])
    page = np.ones((number.shape[0] + 60, number.shape[1] + 160), np.float32)
    page[30:-30, 10 : 10 + number.shape[1]] = number
    writing = np.zeros(page.shape, bool)
    writing[25:-25, 5 : 15 + number.shape[1]] = True
    for darkest in (0.25, 0.3, 0.4):  # the paper at its darkest, a share of its lightest
        shade = np.linspace(darkest, 1.0, page.shape[0])[:, None]
        for shadowed in (page * shade, page * shade[::-1]):
            ink = ink_map(shadowed.astype(np.float32))
            assert ink[~writing].max() < 0.25, darkest  # the ink threshold
            assert ink[writing].max() > 0.9, darkest
