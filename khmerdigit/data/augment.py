"""Realistic distortions of digit images: on-the-fly training augmentation, synthesis, benchmarks.

All work on an ink map (0..1, 1 = ink) at a fixed working size and never mirror: a mirrored
digit is another glyph.
"""

from __future__ import annotations

import io
from typing import Callable

import numpy as np
from PIL import Image
from scipy import ndimage

from khmerdigit.runtime.preprocess import ink_map

WORK_SIDE = 64  # distortions happen at this resolution


def to_work_ink(gray: np.ndarray) -> np.ndarray:
    """Grayscale image -> ink map at WORK_SIDE, padded so rotations and shifts do not clip."""
    return work_ink(ink_map(gray))


def work_ink(ink: np.ndarray) -> np.ndarray:
    """Ink map -> the same at WORK_SIDE, padded so rotations and shifts do not clip."""
    scale = WORK_SIDE / max(ink.shape)
    size = (max(1, round(ink.shape[1] * scale)), max(1, round(ink.shape[0] * scale)))
    ink = np.asarray(Image.fromarray(ink.astype(np.float32), "F").resize(size, Image.Resampling.BILINEAR))
    pad = WORK_SIDE // 4
    return np.pad(np.clip(ink, 0, 1), pad)


def affine(ink: np.ndarray, degrees: float = 0.0, shear: float = 0.0, scale_x: float = 1.0,
           scale_y: float = 1.0, shift: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """Rotate (degrees, counter-clockwise), shear and scale about the centre, then shift (pixels)."""
    theta = np.deg2rad(degrees)
    rotation = np.array([[np.cos(theta), np.sin(theta)], [-np.sin(theta), np.cos(theta)]])
    forward = rotation @ np.array([[1.0, 0.0], [shear, 1.0]]) @ np.diag([scale_y, scale_x])
    inverse = np.linalg.inv(forward)
    centre = (np.array(ink.shape) - 1) / 2
    offset = centre - inverse @ (centre + np.asarray(shift))
    return ndimage.affine_transform(ink, inverse, offset=offset, order=1, mode="constant")


def elastic(ink: np.ndarray, rng: np.random.Generator, alpha: float = 3.0, sigma: float = 4.0) -> np.ndarray:
    """Smooth random warping, like a hand's wobble (alpha: displacement in pixels)."""
    fields = [ndimage.gaussian_filter(rng.uniform(-1, 1, ink.shape), sigma) for _ in range(2)]
    fields = [f / (np.abs(f).max() + 1e-6) * alpha for f in fields]
    rows, cols = np.meshgrid(np.arange(ink.shape[0]), np.arange(ink.shape[1]), indexing="ij")
    return ndimage.map_coordinates(ink, [rows + fields[0], cols + fields[1]], order=1, mode="constant")


def stroke_width(ink: np.ndarray, pixels: int) -> np.ndarray:
    """Thicken (pixels > 0) or thin (pixels < 0) strokes by grey dilation/erosion."""
    if pixels == 0:
        return ink
    size = abs(pixels) + 1
    operation = ndimage.grey_dilation if pixels > 0 else ndimage.grey_erosion
    changed = operation(ink, size=(size, size))
    return changed if changed.max() > 0.3 else ink  # never erase a thin digit entirely


def break_stroke(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Erase a short piece of one stroke, like a pen lifted mid-stroke."""
    mask = ink > 0.5
    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        return ink
    depth = ndimage.distance_transform_edt(mask)
    pick = rng.integers(rows.size)
    radius = 1.5 * depth[max(0, rows[pick] - 3) : rows[pick] + 4, max(0, cols[pick] - 3) : cols[pick] + 4].max() + 1
    yy, xx = np.indices(ink.shape)
    return np.where((yy - rows[pick]) ** 2 + (xx - cols[pick]) ** 2 <= radius**2, 0.0, ink)


def low_resolution(ink: np.ndarray, scale: float) -> np.ndarray:
    """Shrink by `scale` and enlarge back: the blocky, blurred strokes of a digit written or scanned small."""
    small = (max(2, round(ink.shape[1] * scale)), max(2, round(ink.shape[0] * scale)))
    image = Image.fromarray(ink.astype(np.float32), "F")
    return np.asarray(image.resize(small, Image.Resampling.BILINEAR).resize(image.size, Image.Resampling.BILINEAR))


def on_paper(ink: np.ndarray, rng: np.random.Generator, invert: bool = False, noise: float = 0.0,
             unevenness: float = 0.0, contrast: float = 1.0) -> np.ndarray:
    """Ink map -> grayscale image: ink on a (possibly uneven) background, with optional noise."""
    rows, cols = np.mgrid[0 : ink.shape[0], 0 : ink.shape[1]] / max(ink.shape)
    angle = rng.uniform(0, 2 * np.pi)
    background = 1.0 - unevenness * (0.5 + 0.5 * np.cos(angle) * rows + 0.5 * np.sin(angle) * cols)
    ink_level = 1.0 - contrast
    gray = background * (1 - ink) + ink_level * ink
    if noise:
        gray = gray + rng.normal(0, noise, gray.shape)
    gray = np.clip(gray, 0, 1)
    return 1.0 - gray if invert else gray


def jpeg(gray: np.ndarray, quality: int) -> np.ndarray:
    """Round-trip through JPEG compression at `quality`."""
    buffer = io.BytesIO()
    Image.fromarray(np.round(gray * 255).astype(np.uint8), "L").save(buffer, "JPEG", quality=quality)
    return np.asarray(Image.open(buffer), dtype=np.float32) / 255.0


def perspective(ink: np.ndarray, rng: np.random.Generator, amount: float = 0.08) -> np.ndarray:
    """A phone held at an angle: move each corner by up to `amount` of the side, a projective warp."""
    h, w = ink.shape
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], float)
    moved = corners + rng.uniform(-amount, amount, corners.shape) * (w, h)
    rows = []
    for (x, y), (u, v) in zip(corners, moved):  # maps output corners to where they sit in the input
        rows += [[x, y, 1, 0, 0, 0, -u * x, -u * y], [0, 0, 0, x, y, 1, -v * x, -v * y]]
    coeffs = np.linalg.solve(np.array(rows), moved.ravel())
    image = Image.fromarray(ink.astype(np.float32), "F")
    return np.asarray(image.transform((w, h), Image.Transform.PERSPECTIVE, tuple(coeffs), Image.Resampling.BILINEAR))


def motion_blur(ink: np.ndarray, rng: np.random.Generator, length: float = 4.0) -> np.ndarray:
    """A shaken phone: smear along a random direction over `length` pixels."""
    n = max(3, int(np.ceil(length)) | 1)
    angle = rng.uniform(0, np.pi)
    t = np.linspace(-length / 2, length / 2, 4 * n)
    kernel = np.zeros((n, n), np.float32)
    np.add.at(kernel, (np.clip(np.round(n // 2 + t * np.sin(angle)).astype(int), 0, n - 1),
                       np.clip(np.round(n // 2 + t * np.cos(angle)).astype(int), 0, n - 1)), 1.0)
    return ndimage.correlate(ink, kernel / kernel.sum(), mode="constant")


def defocus(ink: np.ndarray, sigma: float = 1.2) -> np.ndarray:
    """An out-of-focus photo or a blurry scan."""
    return ndimage.gaussian_filter(ink, sigma)


def shadow(shape: tuple[int, int], rng: np.random.Generator, depth: float = 0.3) -> np.ndarray:
    """A soft-edged shadow (a hand or the phone) over part of the page: a multiplier, 1 = no shadow."""
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]] / max(shape)
    angle = rng.uniform(0, 2 * np.pi)
    across = np.cos(angle) * cols + np.sin(angle) * rows
    edge = rng.uniform(across.min(), across.max())
    softness = rng.uniform(0.08, 0.25)
    return 1.0 - depth / (1.0 + np.exp(-(across - edge) / softness))


def blotches(shape: tuple[int, int], rng: np.random.Generator, amount: float = 0.15) -> np.ndarray:
    """Uneven light over the paper, a smooth multiplier in 1 - amount .. 1."""
    coarse = rng.uniform(1 - amount, 1, (3, 3)).astype(np.float32)
    return np.asarray(Image.fromarray(coarse, "F").resize(shape[::-1], Image.Resampling.BICUBIC))


def ruled_lines(gray: np.ndarray, rng: np.random.Generator, squared: bool = False,
                strength: float = 0.3) -> np.ndarray:
    """Ruled (or squared, `squared`) paper: thin faint lines across the image, darkening what is under them."""
    h, w = gray.shape
    spacing = rng.uniform(0.18, 0.4) * max(h, w)
    width = rng.uniform(0.6, 1.6)

    def lines(n: int) -> np.ndarray:
        phase = rng.uniform(0, spacing)
        distance = np.abs((np.arange(n) - phase + spacing / 2) % spacing - spacing / 2)
        return np.clip(1.0 - (distance - width / 2), 0.0, 1.0)  # anti-aliased edges

    tilt = rng.uniform(-0.03, 0.03)
    mask = lines(h + int(abs(tilt) * w) + 2)
    offsets = np.round(tilt * np.arange(w)).astype(int) + int(abs(tilt) * w) + 1
    mask = mask[np.arange(h)[:, None] + offsets[None, :] - int(abs(tilt) * w) - 1]
    if squared:
        mask = np.maximum(mask, lines(w)[None, :])
    return gray * (1.0 - strength * mask)


def neighbour_bits(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A piece of a neighbouring digit caught at the left or right edge of a loose crop."""
    h, w = ink.shape
    piece = np.rot90(ink, int(rng.integers(1, 4)))[:h, :w]  # another shape, never the digit mirrored
    piece = np.pad(piece, ((0, max(0, h - piece.shape[0])), (0, max(0, w - piece.shape[1]))))
    cols = np.flatnonzero(piece.max(axis=0) > 0.3)
    if cols.size == 0:
        return ink
    showing = int(rng.uniform(0.08, 0.2) * w)
    shift_rows = int(rng.integers(-h // 6, h // 6 + 1))
    if rng.random() < 0.5:  # its right end shows at our left edge
        part = piece[:, cols.max() - showing : cols.max() + 1]
        bits = np.zeros_like(ink)
        bits[:, : part.shape[1]] = part
    else:
        part = piece[:, cols.min() : cols.min() + showing]
        bits = np.zeros_like(ink)
        bits[:, w - part.shape[1] :] = part
    return np.maximum(ink, np.roll(bits, shift_rows, axis=0))


def photo(ink: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    """Ink map -> a phone photo of paper: gray, unevenly lit and shadowed, lower contrast, sensor noise."""
    s = strength
    paper = rng.uniform(0.5, 0.92)
    background = paper * blotches(ink.shape, rng, rng.uniform(0, 0.25) * s)
    if rng.random() < 0.5:
        background = background * shadow(ink.shape, rng, rng.uniform(0.1, 0.45) * s)
    ink_level = rng.uniform(0.05, 0.45) * paper
    gray = background * (1 - ink) + ink_level * ink
    if rng.random() < 0.3:
        gray = ruled_lines(gray, rng, squared=rng.random() < 0.4, strength=rng.uniform(0.1, 0.35))
    gray = gray + rng.normal(0, rng.uniform(0.005, 0.04) * s, gray.shape)
    return np.clip(gray, 0, 1)


def screen(ink: np.ndarray, rng: np.random.Generator, margin: bool | None = None) -> np.ndarray:
    """Ink map -> a screenshot of a digit drawn on a screen: thin anti-aliased light strokes on a dark or
    coloured background, sometimes inside a margin of another shade."""
    thin = stroke_width(ink, -int(rng.integers(1, 3)))
    thin = ndimage.gaussian_filter(thin, rng.uniform(0.3, 0.7))  # anti-aliasing
    background = rng.uniform(0.0, 0.2) if rng.random() < 0.6 else rng.uniform(0.2, 0.55)  # black or coloured
    stroke = rng.uniform(max(background + 0.35, 0.7), 1.0)
    gray = background * (1 - thin) + stroke * thin
    if margin if margin is not None else rng.random() < 0.2:
        h, w = gray.shape
        top, left = int(rng.uniform(0.04, 0.12) * h), int(rng.uniform(0.04, 0.12) * w)
        frame = np.full_like(gray, np.clip(background + rng.uniform(-0.1, 0.1), 0, 1))
        frame[top : h - top, left : w - left] = gray[top : h - top, left : w - left]
        gray = frame
    return np.clip(gray, 0, 1)


def scan(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Ink map -> a flatbed scan: white even paper, dark ink, faint specks, sometimes black and white."""
    gray = 1.0 - ink * rng.uniform(0.75, 1.0)
    if rng.random() < 0.3:  # a bilevel (black and white) scan
        gray = np.where(gray < rng.uniform(0.4, 0.7), 0.0, 1.0)
    specks = rng.random(gray.shape) < rng.uniform(0, 0.004)
    return np.clip(np.where(specks, gray * 0.5, gray) + rng.normal(0, 0.01, gray.shape), 0, 1)


# How often `distort` captures a digit each way (at strength 1): paper as before, or the new conditions.
CAPTURES = {"paper": 0.45, "photo": 0.3, "screen": 0.15, "scan": 0.1}


def distort(gray: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    """A random realistic variant of a grayscale digit image (the training augmentation)."""
    s = strength
    ink = vary_shape(to_work_ink(gray), rng, s)
    if rng.random() < 0.15 * s:
        ink = break_stroke(ink, rng)
    shares = np.array([CAPTURES["paper"] + (1 - min(s, 1)) * 0.55, *(min(s, 1) * np.array(
        [CAPTURES["photo"], CAPTURES["screen"], CAPTURES["scan"]]))])
    kind = ("paper", "photo", "screen", "scan")[int(rng.choice(4, p=shares / shares.sum()))]
    if kind == "photo":
        if rng.random() < 0.5:
            ink = perspective(ink, rng, rng.uniform(0.02, 0.1))
        if rng.random() < 0.15:
            ink = neighbour_bits(ink, rng)
        if rng.random() < 0.25:
            ink = motion_blur(ink, rng, rng.uniform(2, 6))
    if rng.random() < 0.3 * s:
        ink = defocus(ink, rng.uniform(0.5, 1.5))
    elif rng.random() < 0.3 * s:
        ink = low_resolution(ink, rng.uniform(0.3, 0.6))
    return capture(np.clip(ink, 0, 1), kind, rng, s)


def vary_shape(ink: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    """The same digit as another hand might write it: rotated, sheared, stretched, wobbled, with a
    thinner or thicker pen (an ink map at WORK_SIDE, see `work_ink`)."""
    s = strength
    ink = affine(ink, degrees=rng.uniform(-20, 20) * s, shear=rng.uniform(-0.3, 0.3) * s,
                 scale_x=np.exp(rng.uniform(-0.2, 0.2) * s), scale_y=np.exp(rng.uniform(-0.2, 0.2) * s))
    if rng.random() < 0.5 * s:
        ink = elastic(ink, rng, alpha=rng.uniform(1, 4))
    return stroke_width(ink, int(rng.choice([-1, 0, 0, 1, 2, 3])) if rng.random() < s else 0)


def capture(ink: np.ndarray, kind: str, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    """Ink map -> grayscale image, captured one of the `CAPTURES` ways (photo, screen, scan, or on paper
    as written), sometimes JPEG-compressed."""
    s = strength
    if kind == "photo":
        gray = photo(ink, rng, s)
    elif kind == "screen":
        gray = screen(ink, rng)
    elif kind == "scan":
        gray = scan(ink, rng)
    else:
        gray = on_paper(ink, rng, invert=rng.random() < 0.25 * s, noise=rng.uniform(0, 0.08) * s,
                        unevenness=rng.uniform(0, 0.3) * s, contrast=rng.uniform(0.6, 1.0))
    if rng.random() < (0.2 + 0.3 * (kind == "photo")) * s:
        gray = jpeg(gray, int(rng.integers(20, 80)))
    return gray.astype(np.float32)


def off_centre(gray: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Place the digit small, in a random corner region of a canvas three times its size."""
    ink = to_work_ink(gray)
    canvas = np.zeros((ink.shape[0] * 3, ink.shape[1] * 3), np.float32)
    top, left = rng.integers(0, ink.shape[0] * 2, size=2)
    canvas[top : top + ink.shape[0], left : left + ink.shape[1]] = ink
    return on_paper(canvas, rng)


def photo_with_shadow(gray: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Dark ink on paper, a deep soft shadow across part of the page."""
    ink = to_work_ink(gray)
    return np.clip((1 - 0.9 * ink) * shadow(ink.shape, rng, 0.45), 0, 1)


def on_table(page: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A photo of the page lying on a darker table that shows along one to three of its edges."""
    h, w = page.shape
    sides = rng.permutation(4)[: int(rng.integers(1, 4))]
    top, bottom, left, right = (int(rng.uniform(0.1, 0.25) * (h if side < 2 else w)) if side in sides else 0
                                for side in range(4))
    grain = ndimage.gaussian_filter(rng.normal(0, 0.1, (h + top + bottom, w + left + right)), (1, 6))
    table = np.clip(rng.uniform(0.1, 0.5) + grain, 0, 1)
    table[top : top + h, left : left + w] = page
    return ndimage.gaussian_filter(table, 0.7)


def in_form_box(page: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The writing in a printed form's box: a margin of paper, then a thin dark frame; in a third of the
    images the form cell is cut out on its lines."""
    h, w = page.shape
    top, side = (int(rng.uniform(0.06, 0.25) * length) + 3 for length in (h, w))
    thickness = int(rng.integers(1, 4))
    out = np.pad(page, ((top, top), (side, side)), constant_values=float(np.median(page)))
    inset = 0 if rng.random() < 1 / 3 else int(rng.integers(1, min(top, side) - thickness))
    outer, inner = inset, inset + thickness
    box = np.zeros(out.shape, bool)
    box[outer : out.shape[0] - outer, outer : out.shape[1] - outer] = True
    box[inner : out.shape[0] - inner, inner : out.shape[1] - inner] = False
    return np.where(box, np.minimum(out, rng.uniform(0.1, 0.45)), out).astype(np.float32)


def underlined(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A line drawn under the writing (an underline or a form's line to write on), apart from it or touching
    its lowest stroke; in a quarter of the images over it instead. The line reaches past the writing."""
    rows, cols = np.nonzero(ink > 0.3)
    if rows.size == 0:
        return ink
    height, width = np.ptp(rows) + 1, np.ptp(cols) + 1
    over = rng.random() < 0.25
    gap = int(rng.uniform(-0.04, 0.15) * height)  # below 0: touching the writing
    row = rows.min() - gap - 2 if over else rows.max() + gap
    left = max(0, cols.min() - int(rng.uniform(0.1, 0.4) * width))
    right = min(ink.shape[1], cols.max() + int(rng.uniform(0.1, 0.4) * width))
    top = int(np.clip(row, 0, ink.shape[0] - 3))
    line = np.zeros_like(ink)
    line[top : top + int(rng.integers(1, 4)), left:right] = 1.0
    return np.maximum(ink, affine(line, degrees=rng.uniform(-1.5, 1.5)))


# Named perturbations a user's photos have, for benchmarks: gray -> gray.
PERTURBATIONS: dict[str, Callable[[np.ndarray, np.random.Generator], np.ndarray]] = {
    "rotate -20°": lambda g, r: on_paper(affine(to_work_ink(g), degrees=-20), r),
    "rotate +20°": lambda g, r: on_paper(affine(to_work_ink(g), degrees=20), r),
    "thicker": lambda g, r: on_paper(stroke_width(to_work_ink(g), 3), r),
    "thinner": lambda g, r: on_paper(stroke_width(to_work_ink(g), -1), r),
    "inverted": lambda g, r: on_paper(to_work_ink(g), r, invert=True),
    "blur": lambda g, r: on_paper(ndimage.gaussian_filter(to_work_ink(g), 1.5), r),
    "noise": lambda g, r: on_paper(to_work_ink(g), r, noise=0.15),
    "off-centre": off_centre,
    # capture conditions: phone photos, screens, scans
    "photo": lambda g, r: jpeg(photo(perspective(to_work_ink(g), r, 0.06), r), 60),
    "photo, shadow": lambda g, r: photo_with_shadow(g, r),
    "photo, on a table": lambda g, r: jpeg(on_table(photo(to_work_ink(g), r), r), 60),
    "form box": lambda g, r: in_form_box(on_paper(to_work_ink(g), r), r),
    "underlined": lambda g, r: on_paper(underlined(to_work_ink(g), r), r),
    "photo, low contrast": lambda g, r: 0.55 + 0.3 * on_paper(to_work_ink(g), r),
    "motion blur": lambda g, r: on_paper(motion_blur(to_work_ink(g), r, 5.0), r),
    "perspective": lambda g, r: on_paper(perspective(to_work_ink(g), r, 0.1), r),
    "ruled paper": lambda g, r: ruled_lines(on_paper(to_work_ink(g), r), r, strength=0.35),
    "squared paper": lambda g, r: ruled_lines(on_paper(to_work_ink(g), r), r, squared=True, strength=0.35),
    "neighbour bits": lambda g, r: on_paper(neighbour_bits(to_work_ink(g), r), r),
    "jpeg": lambda g, r: jpeg(on_paper(to_work_ink(g), r), 25),
    "screen": lambda g, r: screen(to_work_ink(g), r, margin=False),
    "screenshot": lambda g, r: screen(to_work_ink(g), r, margin=True),
    "scan": lambda g, r: scan(to_work_ink(g), r),
}
