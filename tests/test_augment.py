"""Training distortions: pen lifts and small writing, and the seeded `distort` built from them."""

import numpy as np
from scipy import ndimage

from khmerdigit.data.augment import (
    PERTURBATIONS,
    break_stroke,
    capture,
    distort,
    in_form_box,
    low_resolution,
    motion_blur,
    neighbour_bits,
    on_table,
    perspective,
    photo,
    ruled_lines,
    scan,
    screen,
    shadow,
    to_work_ink,
    underlined,
    vary_shape,
)
from khmerdigit.runtime.preprocess import ink_map
from tests.helpers import digit_image


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


def test_vary_shape_writes_the_same_digit_differently():
    ink = ink_of(3)
    varied = [vary_shape(ink, np.random.default_rng(seed), 0.6) for seed in range(6)]
    assert np.array_equal(varied[0], vary_shape(ink, np.random.default_rng(0), 0.6))  # seeded
    assert all(v.shape == ink.shape and (v > 0.5).sum() > 0.4 * (ink > 0.5).sum() for v in varied)
    overlaps = [((v > 0.5) & (ink > 0.5)).sum() / ((v > 0.5) | (ink > 0.5)).sum() for v in varied]
    assert max(overlaps) < 0.95 and min(overlaps) > 0.1  # another hand's digit, still roughly where it was


# capture conditions ------------------------------------------------------------------------------



def work_ink(label: int = 2) -> np.ndarray:
    return to_work_ink(np.asarray(digit_image(label, size=64), np.float32) / 255.0)


def test_screen_is_thin_light_strokes_on_a_dark_background():
    ink = work_ink()
    for seed in range(5):
        gray = screen(ink, np.random.default_rng(seed), margin=False)
        background, strokes = np.median(gray), gray[ink > 0.9]
        assert background < 0.6 and strokes.max() > background + 0.3  # light on dark
        bright = gray > (background + strokes.max()) / 2
        assert bright.sum() < 0.8 * (ink > 0.5).sum()  # thinner than the pen was


def test_screenshot_margin_is_a_frame_of_another_shade():
    gray = screen(work_ink(), np.random.default_rng(0), margin=True)
    assert np.ptp(gray[0]) < 0.05 and np.ptp(gray[:, 0]) < 0.05  # uniform frame
    assert abs(gray[0, 0] - np.median(gray[30:60, 30:60])) > 0.0


def test_photo_paper_is_gray_with_darker_ink():
    ink = work_ink()
    for seed in range(5):
        gray = photo(ink, np.random.default_rng(seed))
        paper, strokes = np.median(gray[ink < 0.05]), np.median(gray[ink > 0.9])
        assert 0.3 < paper < 0.97 and strokes < paper - 0.1


def test_shadow_darkens_part_of_the_page_smoothly():
    mult = shadow((64, 64), np.random.default_rng(2), depth=0.4)
    assert mult.max() <= 1.0 and mult.min() >= 0.6 - 1e-6 and np.ptp(mult) > 0.05
    assert np.abs(np.diff(mult, axis=0)).max() < 0.2 and np.abs(np.diff(mult, axis=1)).max() < 0.2


def test_ruled_and_squared_lines_cross_the_image():
    white = np.ones((96, 96), np.float32)
    ruled = ruled_lines(white, np.random.default_rng(0), strength=0.4)
    for col in (5, 48, 90):  # every column crosses the same few lines
        assert 2 <= ndimage.label(ruled[:, col] < 0.9)[1] <= 6
    assert ((ruled < 0.9).mean(axis=0) < 0.5).all()  # no vertical lines
    squared = ruled_lines(white, np.random.default_rng(0), squared=True, strength=0.4)
    assert ((squared < 0.9).mean(axis=0) > 0.9).any()  # vertical lines too


def test_perspective_and_motion_blur_keep_the_ink_roughly():
    ink = work_ink(5)
    for changed in (perspective(ink, np.random.default_rng(1), 0.08), motion_blur(ink, np.random.default_rng(1), 5)):
        assert changed.shape == ink.shape
        assert 0.6 < changed.sum() / ink.sum() < 1.4 and not np.array_equal(changed, ink)
    blurred = motion_blur(ink, np.random.default_rng(1), 5)
    assert (blurred > 0.05).sum() > 1.2 * (ink > 0.05).sum()  # smeared over more pixels


def test_neighbour_bits_add_ink_only_at_an_edge():
    ink = work_ink(3)
    bits = neighbour_bits(ink, np.random.default_rng(4))
    added = bits - ink
    assert (added >= 0).all() and added.sum() > 0
    cols = np.flatnonzero(added.max(axis=0) > 0.3)
    assert cols.max() < 0.25 * ink.shape[1] or cols.min() > 0.75 * ink.shape[1]


def test_scan_is_white_paper_dark_ink():
    ink = work_ink()
    gray = scan(ink, np.random.default_rng(0))
    assert np.median(gray[ink < 0.05]) > 0.95 and np.median(gray[ink > 0.9]) < 0.3


def test_named_capture_conditions_exist_and_change_the_image():
    gray = np.asarray(digit_image(7, size=64), np.float32) / 255.0
    for name in ("photo", "photo, shadow", "screen", "screenshot", "ruled paper", "squared paper", "scan",
                 "motion blur", "perspective", "neighbour bits", "photo, low contrast", "jpeg", "photo, on a table",
                 "form box", "underlined"):
        out = PERTURBATIONS[name](gray, np.random.default_rng(0))
        assert out.ndim == 2 and 0 <= out.min() and out.max() <= 1, name
        assert out.shape[0] >= 64


def test_a_page_on_a_table_shows_the_table_along_one_to_three_edges():
    page = np.ones((60, 80), np.float32)
    for seed in range(8):
        photo = on_table(page, np.random.default_rng(seed))
        assert photo.shape[0] >= 60 and photo.shape[1] >= 80 and photo.shape != page.shape
        edges = [photo[0], photo[-1], photo[:, 0], photo[:, -1]]
        assert 1 <= sum(float(np.median(edge)) < 0.7 for edge in edges) <= 3  # darker table at 1-3 edges
        assert (photo > 0.9).sum() >= 0.9 * page.size  # the whole page is still there


def test_a_form_box_frames_the_page_and_is_sometimes_cut_out_on_its_lines():
    page = np.ones((60, 80), np.float32)
    cut_on_lines = 0
    for seed in range(12):
        framed = in_form_box(page, np.random.default_rng(seed))
        dark = framed < 0.5
        assert framed.shape[0] > 60 and framed.shape[1] > 80
        rows, cols = np.nonzero(dark)
        frame = dark[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
        assert frame[0].all() and frame[-1].all() and frame[:, 0].all() and frame[:, -1].all()  # closed
        assert (framed > 0.9).sum() >= page.size  # the page inside
        cut_on_lines += rows.min() == 0
    assert 0 < cut_on_lines < 12


def test_distort_draws_paper_photo_and_screen_captures():
    gray = np.asarray(digit_image(9, size=64), np.float32) / 255.0
    rng = np.random.default_rng(0)
    outs = [distort(gray, rng) for _ in range(60)]
    medians = np.array([np.median(o) for o in outs])
    assert (medians < 0.35).any() and (medians > 0.9).any() and ((medians > 0.4) & (medians < 0.85)).any()
    assert all(o.dtype == np.float32 and o.shape == outs[0].shape for o in outs)


def test_capture_makes_each_kind_of_image_of_the_same_ink():
    ink = ink_of(4)
    medians = {kind: np.median(capture(ink, kind, np.random.default_rng(2))) for kind in ("photo", "screen", "scan")}
    assert medians["screen"] < 0.6 and 0.4 < medians["photo"] < 0.95 and medians["scan"] > 0.9
    for kind in ("paper", "photo", "screen", "scan"):
        recovered = ink_map(capture(ink, kind, np.random.default_rng(3))) > 0.5
        assert (recovered & (ink > 0.5)).sum() > 0.3 * (ink > 0.5).sum(), kind  # the digit's strokes survive


def test_an_underline_reaches_past_the_writing_below_or_above_it():
    ink = work_ink(2)
    rows, cols = np.nonzero(ink > 0.3)
    below = 0
    for seed in range(12):
        lined = underlined(ink, np.random.default_rng(seed))
        added = (lined - ink) > 0.3
        line_rows, line_cols = np.nonzero(added)
        assert (lined >= ink).all() and np.ptp(line_rows) <= 6  # a thin, nearly straight line
        assert line_cols.min() < cols.min() and line_cols.max() > cols.max()
        assert line_rows.min() >= rows.max() - 6 or line_rows.max() <= rows.min()
        below += line_rows.min() >= rows.max() - 6
    assert 0 < below < 12
