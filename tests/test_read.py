"""Reading whole numbers: segmentation on composed images with known boxes, the JSON output, end to end."""

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from khmerdigit.data.strokes import styles
from khmerdigit.reading.calibration import AgreementCalibration
from khmerdigit.reading.line_reader import LineReader, LineReading
from khmerdigit.reading.reader import (
    DigitReading,
    SplitWeights,
    calibrated,
    digit_readings,
    load_number_reader,
    read_number,
    read_pieces,
    score_candidates,
)
from khmerdigit.reading.segment import Box, best_split, clean_ink, digit_crop, segment
from tests.helpers import MARGIN, assert_boxes, compose, digit_image, run


@pytest.fixture(scope="module")
def reader():
    return load_number_reader()


@pytest.fixture(scope="module")
def models(reader):
    return reader.classifier, reader.verifier


def boxes_read(reader, gray):
    return [digit.box for digit in reader.read(gray).digits]


def test_separate_digits_are_found_left_to_right(reader):
    gray, boxes = compose([3, 1, 4, 1], [10, 14, 8])
    assert_boxes(boxes_read(reader, gray), boxes)
    assert reader.read(gray).arabic == "3141"


def test_a_wide_digit_among_others_is_one_digit(reader):
    gray, boxes = compose([5, 3, 9], [14, 14], widths={1: 1.9})  # a ៣ drawn almost twice as wide as tall
    assert_boxes(boxes_read(reader, gray), boxes)
    assert reader.read(gray).arabic == "539"


def test_polarity_does_not_matter(reader):
    gray, boxes = compose([2, 0, 2, 5], [12, 12, 12])
    assert_boxes(boxes_read(reader, 1.0 - gray), boxes)


def test_broken_stroke_is_merged(reader):
    gray, boxes = compose([7, 0, 8], [12, 12])
    zero = boxes[1]
    middle = (zero.left + zero.right) // 2
    gray[:, middle - 1 : middle + 2] = 1.0  # a pen lift splits the ០ into a left and a right half
    assert_boxes(boxes_read(reader, gray), boxes)


def overlap(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    inner = max(0, min(a.right, b.right) - max(a.left, b.left)) * max(0, min(a.bottom, b.bottom) - max(a.top, b.top))
    return inner / (a.width * a.height + b.width * b.height - inner)


@pytest.mark.parametrize("pair", [(4, 1), (2, 3), (7, 0)])
def test_touching_pair_is_split(reader, pair):
    right = []
    for seed in range(4):
        gray, boxes = compose([*pair, 6], [None, 12], seed)
        assert boxes[0].right >= boxes[1].left  # the two really do touch
        reading = reader.read(gray)
        overlaps = [overlap(d.box, b) for d, b in zip(reading.digits, boxes)]
        right.append(reading.arabic == f"{pair[0]}{pair[1]}6" and min(overlaps) > 0.75)
    assert sum(right) >= 3, right  # a stroke lifted off a digit that touches its neighbour may go astray


def test_a_slanted_number_is_cut_upright_and_each_digit_classified_as_written(reader):
    gray, _ = compose([7, 4, 0], [14, 14])
    ink = 1.0 - gray
    height = ink.shape[0]
    shifts = np.round((height - 1 - np.arange(height)) * 0.4).astype(int)  # slant: the top leans right
    slanted = np.zeros((height, ink.shape[1] + shifts.max()), np.float32)
    for row, shift in enumerate(shifts):
        slanted[row, shift : shift + ink.shape[1]] = ink[row]
    upright, leaning = reader.read(gray), reader.read(1.0 - slanted)
    assert upright.arabic == leaning.arabic == "740"
    assert leaning.digits[0].box.width >= upright.digits[0].box.width + 5  # boxes are in the image's frame
    clean = clean_ink(1.0 - slanted)
    as_written = np.flatnonzero((digit_crop(clean.ink, clean.image_mask(clean.blobs[0])) > 0.25).any(axis=0))
    assert np.ptp(as_written) + 1 >= leaning.digits[0].box.width - 2  # the classifier sees the ៧ as written


def test_the_digit_height_of_a_broken_digit_is_not_a_pieces_height():
    mask = np.zeros((40, 90), bool)
    for col in range(10, 88):  # a long, gently rising stroke (not a ruling line), lifted off...
        row = round(12 - 10 * (col - 10) / 78)
        mask[row : row + 2, col] = True
    mask[8:38, 4:8] = mask[34:38, 4:20] = True  # ...the digit's body below it
    assert clean_ink(1.0 - mask.astype(np.float32)).digit_height >= 0.5 * 36


def test_a_faint_digit_apart_from_darker_ones_is_read(reader):
    gray, boxes = compose([3, 1, 4], [12, 70])
    faint = slice(boxes[2].left - 2, None)
    gray[:, faint] = 1.0 - 0.25 * (1.0 - gray[:, faint])  # the ៤ written with a quarter of the others' ink
    assert_boxes(boxes_read(reader, gray), boxes)
    assert reader.read(gray).arabic == "314"


def test_specks_and_dots_are_ignored(reader):
    gray, boxes = compose([5, 8, 0], [12, 12])
    for row, col in [(2, 5), (gray.shape[0] - 3, 40), (4, gray.shape[1] - 6), (gray.shape[0] // 2, boxes[0].right + 6)]:
        gray[row : row + 2, col : col + 2] = 0.0
    assert_boxes(boxes_read(reader, gray), boxes)


def test_a_dot_just_beside_a_lone_digit_is_part_of_it(reader):
    gray, boxes = compose([2], [])
    middle = (boxes[0].top + boxes[0].bottom) // 2
    gray[middle : middle + 2, boxes[0].right + 1 : boxes[0].right + 3] = 0.0  # kept: too near to be dirt
    reading = reader.read(gray)
    assert reading.arabic == "2" and len(clean_ink(gray).blobs) == 1


def test_ruling_lines_are_removed(reader):
    gray, boxes = compose([1, 6, 3], [12, 12])
    gray[boxes[0].bottom + 1, :] = 0.3  # a line under the digits
    gray[MARGIN // 2 : MARGIN // 2 + 2, :] = 0.5  # a thicker, fainter one above them
    assert_boxes(boxes_read(reader, gray), boxes)


def test_squared_paper_is_removed(reader):
    gray, boxes = compose([2, 9, 5], [14, 14])
    for col in (boxes[0].left - 5, (boxes[0].right + boxes[1].left) // 2, boxes[2].right + 4):
        gray[:, col] = 0.4  # vertical lines from edge to edge, one between two digits
    gray[boxes[0].bottom + 1, :] = 0.4
    assert_boxes(boxes_read(reader, gray), boxes)
    assert reader.read(gray).arabic == "295"


def test_a_number_in_a_drawn_box_or_a_comb_field_reads_as_without_it(reader):
    gray, boxes = compose([4, 9, 1, 5], [12, 12, 12])
    inset = MARGIN // 3
    boxed = gray.copy()
    boxed[inset : inset + 2, inset:-inset] = boxed[-inset - 2 : -inset, inset:-inset] = 0.2
    boxed[inset:-inset, inset : inset + 2] = boxed[inset:-inset, -inset - 2 : -inset] = 0.2
    comb = boxed.copy()  # each digit in its own cell
    for before, after in zip(boxes, boxes[1:]):
        comb[inset:-inset, (before.right + after.left) // 2 - 1 : (before.right + after.left) // 2 + 1] = 0.2
    for form in (boxed, comb, boxed[inset:-inset, inset:-inset]):  # the last: a form cell cropped on its lines
        assert_boxes(boxes_read(reader, form), [b if form.shape == gray.shape else
                                                Box(b.left - inset, b.top - inset, b.right - inset, b.bottom - inset)
                                                for b in boxes])
        assert reader.read(form).arabic == "4915"


@pytest.mark.parametrize("labels", [[7], [2, 6], [4, 9, 1, 5]])
def test_an_underlined_number_or_digit_reads_as_without_the_line(reader, labels):
    gray, boxes = compose(labels, [12] * (len(labels) - 1))
    left, right = boxes[0].left, boxes[-1].right
    overhang = min(MARGIN - 2, (right - left) // 5)
    bottom = max(b.bottom for b in boxes)
    for row in (bottom + 4, bottom - 1):  # under the writing, and touching its lowest stroke
        underlined = gray.copy()
        underlined[row : row + 2, left - overhang : right + overhang] = 0.2
        assert reader.read(underlined).arabic == "".join(map(str, labels))
        assert_boxes(boxes_read(reader, underlined), boxes)


def test_pinholes_in_thick_strokes_are_still_writing(reader):
    gray, _ = compose([6, 1, 3, 7], [12, 12, 12])
    rows, cols = np.nonzero(ndimage.binary_erosion(gray < 0.5, np.ones((3, 3), bool)))  # inside the strokes
    pick = np.random.default_rng(0).choice(len(rows), 40, replace=False)
    gray[rows[pick], cols[pick]] = 1.0  # 40 holes in four digits, as a grainy photo of a felt pen gives
    assert reader.read(gray).arabic == "6137"


def test_blank_paper_and_noise_have_no_digits(reader):
    rng = np.random.default_rng(0)
    assert reader.read(np.ones((40, 120), np.float32)).digits == ()
    for noise in (rng.uniform(0.3, 0.7, (300, 300)), np.clip(rng.normal(0.8, 0.05, (200, 400)), 0, 1)):
        assert reader.read(noise.astype(np.float32)).digits == ()


def test_a_dash_alone_has_no_digits_and_a_digit_is_no_dash(reader):
    """A dash is a form's "nothing here"; it was cut into a score of slices, each read as a digit."""
    for width, rise, thickness in ((80, 0, 2), (80, 8, 3), (40, 4, 4)):
        page = np.ones((100, 160), np.float32)
        for x in range(width):
            top = 50 + round(rise * x / width)
            page[top : top + thickness, 40 + x] = 0.1
        assert reader.read(page).digits == (), (width, rise, thickness)
    for label in range(10):
        number, _ = compose([label], [])
        assert len(reader.read(number).digits) == 1, label


def test_an_empty_printed_box_is_flagged_not_read_as_a_sure_zero(reader):
    """An empty form field: its frame is kept (a ០ may be written boxy), and it could read as a sure ០."""
    from PIL import ImageDraw, ImageFilter

    rng = np.random.default_rng(9)
    for n in range(16):
        width = int(rng.integers(30, 81))
        height, line, margin = int(width * rng.uniform(1.0, 1.5)), int(rng.integers(1, 4)), int(rng.integers(6, 31))
        page = Image.new("L", (width + 2 * margin, height + 2 * margin), 255)
        ImageDraw.Draw(page).rectangle([margin, margin, margin + width, margin + height],
                                       outline=int(rng.integers(10, 81)), width=line)
        reading = reader.read(page.filter(ImageFilter.GaussianBlur(0.8)) if n % 2 else page)
        assert reading.digits == () or reading.uncertain, (n, reading)
    for seed in range(4):  # a round ០ is no box
        assert reader.read(np.asarray(digit_image(0, seed, size=64), np.float32) / 255).warning is None
    wide = Image.new("L", (300, 120), 255)  # its long sides are erased as ruling: its ends read as two digits
    ImageDraw.Draw(wide).rectangle([10, 10, 290, 110], outline=0, width=2)
    reading = reader.read(wide)
    assert reading.digits == () or "empty box" in reading.warning, reading


def test_the_slashes_of_a_date_are_left_out_with_a_warning(reader):
    """A date's slash was read as a sure ១ (07/08/2025 as 070812025 at 99.6 %)."""
    from PIL import ImageDraw, ImageFont

    from khmerdigit.fonts import bundled_font

    printed = Image.new("L", (560, 120), 255)
    ImageDraw.Draw(printed).text((20, 10), "០៧/០៨/២០២៥", font=ImageFont.truetype(str(bundled_font()), 64), fill=0)
    gray, boxes = compose([1, 2, 0, 5, 2, 0, 2, 4], [12, 60, 12, 60, 12, 12, 12])
    written = Image.fromarray(np.round(gray * 255).astype(np.uint8))
    for left in (2, 4):  # a hand-drawn slash in the middle of each wide gap
        middle = (boxes[left - 1].right + boxes[left].left) // 2
        ImageDraw.Draw(written).line([(middle - 9, boxes[0].bottom), (middle + 9, boxes[0].top)], fill=20, width=3)
    for image, expected in ((printed, "07082025"), (written, "12052024")):
        reading = reader.read(image)
        assert reading.arabic == expected and reading.uncertain and "2 slashes" in reading.warning, reading
    fraction = Image.new("L", (300, 120), 255)  # one alone may be a ៤'s lifted stem: kept, flagged
    ImageDraw.Draw(fraction).text((20, 10), "៥/៦", font=ImageFont.truetype(str(bundled_font()), 64), fill=0)
    reading = reader.read(fraction)
    assert reading.uncertain and reading.warning.startswith("a slash?"), reading
    for label in range(10):  # no digit holds a slash
        for style in styles(label):
            assert clean_ink(np.asarray(digit_image(label, 1, 64, style), np.float32) / 255).slashes == 0, style


def test_read_number_end_to_end(models):
    gray, boxes = compose([3, 1, 4, 5, 9], [10, 16, None, 12])
    reading = read_number(gray, *models)
    assert reading.arabic == "31459" and reading.khmer == "៣១៤៥៩"
    assert reading.confidence == pytest.approx(np.prod([d.confidence for d in reading.digits]))
    assert reading.uncertain == (reading.confidence < reading.threshold)
    assert_boxes([d.box for d in reading.digits], boxes, tolerance=4)
    assert reading.image_size == (gray.shape[1], gray.shape[0])


def test_split_weights_steer_the_split(models):
    gray, _ = compose([3, 1, 4, 5, 9], [10, 16, None, 12])
    segmentation = segment(gray)
    candidates = score_candidates(segmentation, segmentation.groups(), *models)
    counts = [len(candidates.best_split(SplitWeights(digit_bonus=bonus))) for bonus in (-20.0, 0.5, 20.0)]
    assert counts[0] < counts[1] == 5 < counts[2]  # a bonus per digit buys more, smaller candidates
    shape_only = candidates.best_split(SplitWeights(confidence=0.0, whole=0.0, shape=1.0, digit_bonus=0.0))
    assert [candidates.groups[i] for i in shape_only] == best_split(segmentation, segmentation.shape_score,
                                                                     segmentation.groups())


def test_low_confidence_is_marked_uncertain(models):
    gray, _ = compose([2, 7], [12])
    reading = read_number(gray, *models, threshold=1.01)
    assert reading.uncertain and all(d.uncertain for d in reading.digits)


@pytest.fixture
def cut_searches(monkeypatch):
    """The line reading (its last argument) that each call of `read_by_cuts` is given, in order."""
    import khmerdigit.reading.reader as reader_module

    lines = []
    search = reader_module.read_by_cuts
    monkeypatch.setattr(reader_module, "read_by_cuts", lambda *args: lines.append(args[-1]) or search(*args))
    return lines


def test_cuts_are_searched_for_an_unsure_reading_unless_the_line_reader_reads_it_alike(reader, cut_searches):
    gray, _ = compose([3, 1, 4, 1], [10, 14, 8])
    assert reader.line_reader.read(clean_ink(gray))[0] == [3, 1, 4, 1]
    unsure = 1.0  # no reading of several digits is this sure, so each is unsure
    assert read_number(gray, reader.classifier, reader.verifier, unsure, line_reader=reader.line_reader).arabic == "3141"
    assert cut_searches == []
    assert read_number(gray, reader.classifier, reader.verifier, unsure).arabic == "3141"  # no line reader
    assert cut_searches == [None]


def test_pieces_the_line_reader_reads_as_other_digits_are_cut_too_and_the_surest_reading_wins(reader, cut_searches):
    from khmerdigit.data.compose import compose_number, stroke_digits

    rng = np.random.default_rng([105, 5])  # three pen-stroke digits, a pair touching: read 98 before
    pool = stroke_digits(1, rng)
    labels = rng.integers(0, 10, int(rng.integers(2, 4)))
    gray, _ = compose_number([pool[label][0] for label in labels], 0.5, rng)
    reading = reader.read(gray)
    assert cut_searches and reading.arabic == "".join(map(str, labels)) == "981"
    assert not reading.uncertain


def test_a_lone_wide_piece_the_line_reader_reads_as_two_digits_is_cut_however_sure_the_classifier(reader):
    gray, boxes = compose([4, 1], [None])
    assert reader.line_reader.read(clean_ink(gray)).digits == [4, 1]
    always_sure = 0.0  # the classifier is as sure of two touching digits as of one
    reading = read_number(gray, reader.classifier, reader.verifier, always_sure, line_reader=reader.line_reader)
    assert reading.arabic == "41"
    assert_boxes([digit.box for digit in reading.digits], boxes, tolerance=3)


class AlteredLineReader:
    """The bundled line reader, its reading changed by `alter` (as it may read a stranger's number)."""

    def __init__(self, line_reader):
        self.line_reader = line_reader
        self.calibration = line_reader.calibration

    def read(self, clean):
        return self.alter(self.line_reader.read(clean))

    def alter(self, reading: LineReading) -> LineReading:
        raise NotImplementedError


class OneDigitMore(AlteredLineReader):
    """Reading one more digit than it does (as it may for a stranger's wide digit)."""

    def alter(self, reading):
        probabilities = np.vstack([reading.probabilities, reading.probabilities[-1:]])
        return reading._replace(digits=[*reading.digits, reading.digits[-1]], probabilities=probabilities)


def test_a_cut_search_without_a_line_reader_counting_one_digit_too_many_competes(reader, cut_searches):
    unsure = 1.0  # every reading of several digits is searched by cuts
    separate, _ = compose([7, 1, 4, 0], [10, 14, 8])
    touching, _ = compose([4, 1, 6], [None, 12])
    for gray in (separate, touching):
        read_number(gray, reader.classifier, reader.verifier, unsure, line_reader=OneDigitMore(reader.line_reader))
    four_narrow_pieces, following = cut_searches[:2]  # searched for without the fifth digit, and with it
    assert four_narrow_pieces is None and len(following.digits) == 5
    assert len(cut_searches) == 3 and len(cut_searches[2].digits) == 4  # a piece wide enough for two: weighed
    for gray, number in ((separate, "7140"), (touching, "416")):
        assert read_number(gray, reader.classifier, reader.verifier, unsure,
                           line_reader=OneDigitMore(reader.line_reader)).arabic == number


class RepeatsOnce(AlteredLineReader):
    """Reading each run of a repeated digit once (as CTC may when it sees no gap)."""

    def alter(self, reading):
        digits = reading.digits
        keep = [i for i, digit in enumerate(digits) if i == 0 or digit != digits[i - 1]]
        return reading._replace(digits=[digits[i] for i in keep], probabilities=reading.probabilities[keep])


def test_separate_repeated_digits_the_line_reader_reads_once_are_all_read(reader):
    gray, boxes = compose([1, 7, 0, 0], [12, 14, 12])
    reading = read_number(gray, reader.classifier, reader.verifier, line_reader=RepeatsOnce(reader.line_reader))
    assert reading.arabic == "1700" and reading.line_reading == "170" and reading.uncertain
    assert_boxes([digit.box for digit in reading.digits], boxes)
    clean = clean_ink(gray)
    line = reader.line_reader.read(clean)
    fewer = line._replace(digits=[1, 7, 0], probabilities=line.probabilities[[0, 1, 3]])
    assert read_pieces(clean, reader.classifier, 0.9, fewer) is not None
    # not the pieces' digits with a repeat merged:
    other = line._replace(digits=[1, 0, 0], probabilities=line.probabilities[[0, 2, 3]])
    assert read_pieces(clean, reader.classifier, 0.9, other) is None  # a digit may be in two pieces: cuts decide


def test_a_sure_classifier_keeps_its_label_against_the_line_reader():
    probabilities = np.array([[0.0, 0.0, 0.0, 0.0, 0.08, 0.92, 0, 0, 0, 0], [0.0, 0.0, 0.0, 0.0, 0.3, 0.7, 0, 0, 0, 0]])
    line = np.array([[0.0, 0.0, 0.0, 0.0, 0.99, 0.01, 0, 0, 0, 0]] * 2)
    box = Box(0, 0, 10, 10)
    sure, unsure = digit_readings(probabilities, [box, box], 0.9, line)
    assert (sure.label, sure.uncertain) == (5, False)  # the classifier at 0.92 is sure: ៥ stays
    assert (unsure.label, unsure.uncertain) == (4, True)  # at 0.7 the line reader settles it, flagged


def test_a_reading_the_line_reader_reads_otherwise_is_uncertain(reader):
    gray, _ = compose([7, 1, 4, 0], [10, 14, 8])
    never_unsure = 0.0  # no digit confidence is below this threshold
    agreeing = read_number(gray, reader.classifier, reader.verifier, never_unsure, line_reader=reader.line_reader)
    assert agreeing.arabic == agreeing.line_reading == "7140" and not agreeing.uncertain
    disagreeing = read_number(gray, reader.classifier, reader.verifier, never_unsure,
                              line_reader=OneDigitMore(reader.line_reader))
    assert disagreeing.arabic == "7140" and disagreeing.line_reading == "71400" and disagreeing.uncertain
    assert disagreeing.to_dict()["line_reader"] == "71400" and disagreeing.to_dict()["uncertain"]
    without = read_number(gray, reader.classifier, reader.verifier, never_unsure)
    assert without.line_reading is None and not without.uncertain


def test_cli_json_debug_image_strict_and_bad_files(tmp_path):
    gray, _ = compose([6, 0, 8], [12, 14])
    image = tmp_path / "number.png"
    Image.fromarray(np.round(gray * 255).astype(np.uint8)).save(image)
    (tmp_path / "broken.png").write_bytes(b"not an image")

    result = run("read", str(image), str(tmp_path / "broken.png"), "--json",
                                 "--debug-image", str(tmp_path / "debug.png"))
    assert result.exit_code == 1  # one file failed, the other was still read
    records = json.loads(result.stdout)
    assert records[1]["error"] and "broken.png" in result.stderr
    number = records[0]
    assert set(number) == {"file", "khmer", "arabic", "confidence", "uncertain", "threshold", "line_reader",
                           "warning", "image_size", "digits"}
    assert number["arabic"] == "608" and number["khmer"] == "៦០៨" and number["uncertain"] is False
    assert number["warning"] is None and "warning" not in result.stderr
    assert number["confidence"] == pytest.approx(np.prod([d["confidence"] for d in number["digits"]]), abs=1e-5)
    assert number["image_size"] == [gray.shape[1], gray.shape[0]]
    for digit, label in zip(number["digits"], (6, 0, 8)):
        assert set(digit) == {"digit", "glyph", "confidence", "box", "uncertain"}
        assert digit["digit"] == label and 0 <= digit["confidence"] <= 1
        assert set(digit["box"]) == {"x", "y", "width", "height"}
    assert Image.open(tmp_path / "debug-number.png").size[0] > gray.shape[1]

    before = image.read_bytes()
    result = run("read", str(image), "--debug-image", str(image))
    assert result.exit_code == 2 and "would overwrite an input image" in result.stderr
    (tmp_path / "debug-number.png").write_bytes(before)  # an input named like another input's debug image
    result = run("read", str(image), str(tmp_path / "debug-number.png"), "--debug-image", str(tmp_path / "debug.png"))
    assert result.exit_code == 2 and image.read_bytes() == before == (tmp_path / "debug-number.png").read_bytes()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "number.png").write_bytes(before)
    result = run("read", str(image), str(tmp_path / "other" / "number.png"), "--debug-image", str(tmp_path / "twice.png"))
    assert result.exit_code == 0 and (tmp_path / "twice-number.png").exists() and (tmp_path / "twice-number-2.png").exists()
    result = run("read", str(image), "--debug-image", str(tmp_path / "debug.jpg"))  # it would hold PNG data
    assert result.exit_code == 2 and "name it FILE.png" in result.stderr and not (tmp_path / "debug.jpg").exists()

    result = run("read", str(image), "--threshold", "1", "--strict", "--cuts-only")
    assert result.exit_code == 2 and "uncertain" in result.stdout and "៦០៨" in result.stdout

    result = run("read", str(image), "--verifier", str(tmp_path / "missing.tflite"))
    assert result.exit_code == 1 and result.stderr.count("\n") == 1 and "verifier model not found" in result.stderr

    result = run("read", str(image), "--line-model", str(tmp_path / "missing.tflite"))
    assert result.exit_code == 1 and result.stderr.count("\n") == 1 and "line-reader model not found" in result.stderr
    result = run("read", str(image), "--cuts-only", "--line-model", str(tmp_path / "missing.tflite"),
                                 "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)[0]["arabic"] == "608"  # no line reader needed


def test_an_isolated_digit_is_never_split(reader):
    from khmerdigit.data.strokes import styles
    from khmerdigit.data.synth import render_font_digit
    from khmerdigit.fonts import bundled_font

    samples = sorted(Path(__file__).resolve().parents[1].glob("sample_images/digit_*.png"))
    assert len(samples) == 10
    images = [(path.name, path) for path in samples]
    rng = np.random.default_rng(0)
    for digit in range(10):
        images += [(f"{digit} {style}", digit_image(digit, seed, 64, style)) for style in styles(digit) for seed in (1, 2)]
        images.append((f"{digit} font", render_font_digit(bundled_font(), digit, rng)))
    counts = {name: len(reader.read(image).digits) for name, image in images}
    assert {name: count for name, count in counts.items() if count != 1} == {}


def test_a_digit_is_labelled_by_both_readers_with_the_classifiers_confidence():
    box = Box(0, 0, 10, 10)
    classifier = np.array([[0.05, 0.5, 0.4, *[0.05 / 7] * 7]])  # 1 rather than 2
    line = np.array([[0.0, 0.05, 0.95, *[0.0] * 7]])  # sure of 2
    alone, both = digit_readings(classifier, [box], 0.9)[0], digit_readings(classifier, [box], 0.9, line)[0]
    assert alone.label == 1 and both.label == 2
    assert both.confidence == pytest.approx(0.4) and both.uncertain  # the classifier's probability of 2
    sure = np.array([[0.0, 0.9, 0.1, *[0.0] * 7]])
    leaning = np.array([[0.0, 0.4, 0.6, *[0.0] * 7]])  # a line reader leaning the other way does not overrule it
    assert digit_readings(sure, [box], 0.5, leaning)[0].label == 1


def test_digits_the_line_reader_confirms_gain_confidence_and_those_it_contradicts_lose_it():
    box = Box(0, 0, 10, 10)
    digits = [DigitReading(3, 0.3, box, True), DigitReading(1, 0.99, box, False), DigitReading(4, 0.95, box, False)]
    line = np.zeros((3, 10))
    line[[0, 1, 2, 2], [3, 1, 9, 4]] = [0.999, 0.999, 0.999, 0.001]  # confirms ៣ and ១, reads ៩ for ៤
    reading = LineReading([3, 1, 9], line, np.zeros((1, 11)))
    unsure, sure, contradicted = calibrated(digits, reading, AgreementCalibration(0.4, 0.4, 0.3), 0.9)
    assert unsure.confidence > 0.8 and sure.confidence > 0.98 and not sure.uncertain
    assert contradicted.confidence < 0.5 and contradicted.uncertain
    assert [d.label for d in (unsure, sure, contradicted)] == [3, 1, 4]


def test_read_calibrates_digit_confidences_with_the_bundled_line_readers_calibration(reader, tmp_path):
    calibration = reader.line_reader.calibration
    assert calibration is not None and calibration.line > 0  # confirming raises confidence
    bare = tmp_path / "line.tflite"
    bare.write_bytes(reader.line_reader.path.read_bytes())
    metadata = json.loads(reader.line_reader.path.with_suffix(".json").read_text())
    bare.with_suffix(".json").write_text(json.dumps({k: v for k, v in metadata.items() if k != "calibration"}))
    uncalibrated = LineReader(bare)
    assert uncalibrated.calibration is None
    gray, _ = compose([3, 1, 4, 1], [10, 14, 8])
    raw = read_number(gray, reader.classifier, reader.verifier, line_reader=uncalibrated)
    reading = reader.read(gray)
    line = reader.line_reader.read(clean_ink(gray))
    labels = [d.label for d in reading.digits]
    assert labels == [d.label for d in raw.digits] == line.digits
    expected = calibration.confidence(np.array([d.confidence for d in raw.digits]),
                                      line.probabilities[range(4), labels])
    assert [d.confidence for d in reading.digits] == pytest.approx(expected)
    assert reading.confidence == pytest.approx(np.prod(expected))
    lone, _ = compose([6], [])
    assert len(reader.line_reader.read(clean_ink(lone)).digits) == 1
    assert [d.confidence for d in reader.read(lone).digits] == [d.confidence for d in read_number(
        lone, reader.classifier, reader.verifier, line_reader=uncalibrated).digits]  # as predict gives it


def test_the_sample_numbers_read_as_the_readme_shows(reader):
    samples = Path(__file__).resolve().parents[1] / "sample_images"
    sure = reader.read(samples / "number_2025.png")
    assert sure.arabic == "2025" and not sure.uncertain
    flagged = reader.read(samples / "number_12345.png")  # the line reader reads its looped ៥ as ៤៥
    assert flagged.arabic == "12345" and flagged.uncertain and flagged.line_reading == "123445"


def test_a_number_photographed_on_a_table_reads_as_on_the_page(reader):
    number, _ = compose([2, 0, 2, 6], [14, 14, 14])
    page = np.full((number.shape[0] + 80, number.shape[1] + 80), 0.85, np.float32)
    page[40:-40, 40:-40] = 0.85 * number
    along_two_edges = np.full((page.shape[0] + 30, page.shape[1] + 50), 0.3, np.float32)
    along_two_edges[30:, 50:] = page
    mostly_table = np.full((page.shape[0] * 5 // 2, page.shape[1] + 120), 0.3, np.float32)  # under 512 px
    mostly_table[100 : 100 + page.shape[0], 60 : 60 + page.shape[1]] = page
    on_page = reader.read(page)
    assert on_page.arabic == "2026"
    for photo in (along_two_edges, mostly_table):
        reading = reader.read(photo)
        assert reading.arabic == "2026" and not reading.uncertain
    moved = [(d.box.left - 50, d.box.top - 30) for d in reader.read(along_two_edges).digits]
    assert moved == pytest.approx([(d.box.left, d.box.top) for d in on_page.digits], abs=2)
    for angle in (4, -4):  # the page askew: the table shows in wedges along every edge, their tips thin
        askew = Image.fromarray(np.round(page * 255).astype(np.uint8)).rotate(angle, Image.BICUBIC, expand=True,
                                                                              fillcolor=77)
        reading = reader.read(askew)
        assert reading.arabic == "2026" and not reading.uncertain, (angle, reading)


def two_lines(tmp_path: Path) -> Path:
    """An image of two numbers written one above the other, as a photo of a list would hold them."""
    top, _ = compose([2, 0, 2, 5], [12, 12, 12])
    bottom, _ = compose([7, 1, 4], [14, 10], seed=1)
    width = max(top.shape[1], bottom.shape[1])
    lines = [np.pad(gray, ((0, 0), (0, width - gray.shape[1])), constant_values=1.0) for gray in (top, bottom)]
    path = tmp_path / "two-lines.png"
    Image.fromarray(np.round(np.vstack(lines) * 255).astype(np.uint8)).save(path)
    return path


def test_two_lines_of_writing_are_flagged_with_a_warning(reader, tmp_path):
    path = two_lines(tmp_path)
    assert clean_ink(np.asarray(Image.open(path), np.float32) / 255).lines == 2
    reading = reader.read(path)
    assert reading.uncertain and "2 lines of writing" in reading.warning
    assert reading.to_dict()["warning"] == reading.warning

    result = run("read", str(path), "--json", "--strict")
    assert result.exit_code == 2  # read all the same, and uncertain
    assert json.loads(result.stdout)[0]["warning"] == reading.warning
    assert "warning:" in result.stderr and "two-lines.png" in result.stderr


def test_a_number_and_a_nine_with_its_roof_lifted_are_one_line():
    gray, _ = compose([9, 3, 0, 8], [12, 12, 12], seed=2)
    assert clean_ink(gray).lines == 1
    nine = np.ones((70, 60), np.float32)
    for row in range(2, 22):  # a rising roof, 20 px tall, lifted 3 px off a body 30 px tall
        column = 10 + (22 - row) * 2
        nine[row, column : column + 4] = 0.0
    nine[25:55, 14:18] = nine[25:55, 38:42] = nine[51:55, 14:42] = 0.0
    assert clean_ink(nine).lines == 1


def test_a_number_scanned_to_black_and_white_dots_reads_as_in_gray(reader, tmp_path):
    """A 1-bit scan dithers gray strokes into scattered dots (full of holes, as noise is): they are blurred back."""
    number, boxes = compose([7, 3, 9, 0], [14, 14, 14])
    pale = Image.fromarray(np.round(255 * (0.45 + 0.55 * number)).astype(np.uint8))  # gray pencil on white
    pale.convert("1").save(tmp_path / "scan.png")  # Floyd-Steinberg dithering
    dithered = reader.read(tmp_path / "scan.png")
    assert dithered.arabic == reader.read(pale).arabic == "7390"
    assert_boxes([digit.box for digit in dithered.digits], boxes, tolerance=3)


def test_digits_spaced_far_apart_are_read_by_the_line_reader_too(reader):
    """The line reader learned from gaps up to about 0.6 digit heights; wider ones (a form's spacing) are
    shortened for it, else it read digits into the blank paper and every such number was flagged."""
    from khmerdigit.reading.line_reader import shortened_gaps

    ink = np.zeros((4, 30), np.float32)
    ink[:, [0, 1, 12, 29]] = 1.0  # gaps of 10 and 16 blank columns
    assert shortened_gaps(ink, 6).shape == (4, 16) and shortened_gaps(ink, 20).shape == ink.shape
    for labels in ([7, 3, 9, 0], [1, 4, 6, 8], [9, 1, 0, 4]):
        number, _ = compose(labels, [38, 38, 38])  # gaps over a digit height
        reading = reader.read(number)
        assert reading.arabic == reading.line_reading == "".join(map(str, labels)) and not reading.uncertain
