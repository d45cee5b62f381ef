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

from khmerdigit.preprocess import ink_map

WORK_SIDE = 64  # distortions happen at this resolution


def to_work_ink(gray: np.ndarray) -> np.ndarray:
    """Grayscale image -> ink map at WORK_SIDE, padded so rotations and shifts do not clip."""
    ink = ink_map(gray)
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


def distort(gray: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    """A random realistic variant of a grayscale digit image (the training augmentation)."""
    ink = to_work_ink(gray)
    s = strength
    ink = affine(ink, degrees=rng.uniform(-20, 20) * s, shear=rng.uniform(-0.3, 0.3) * s,
                 scale_x=np.exp(rng.uniform(-0.2, 0.2) * s), scale_y=np.exp(rng.uniform(-0.2, 0.2) * s))
    if rng.random() < 0.5 * s:
        ink = elastic(ink, rng, alpha=rng.uniform(1, 4))
    ink = stroke_width(ink, int(rng.choice([-1, 0, 0, 1, 2, 3])) if rng.random() < s else 0)
    if rng.random() < 0.15 * s:
        ink = break_stroke(ink, rng)
    if rng.random() < 0.3 * s:
        ink = ndimage.gaussian_filter(ink, rng.uniform(0.5, 1.5))
    elif rng.random() < 0.3 * s:
        ink = low_resolution(ink, rng.uniform(0.3, 0.6))
    gray = on_paper(np.clip(ink, 0, 1), rng, invert=rng.random() < 0.25 * s,
                    noise=rng.uniform(0, 0.08) * s, unevenness=rng.uniform(0, 0.3) * s,
                    contrast=rng.uniform(0.6, 1.0))
    if rng.random() < 0.2 * s:
        gray = jpeg(gray, int(rng.integers(20, 80)))
    return gray.astype(np.float32)


def off_centre(gray: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Place the digit small, in a random corner region of a canvas three times its size."""
    ink = to_work_ink(gray)
    canvas = np.zeros((ink.shape[0] * 3, ink.shape[1] * 3), np.float32)
    top, left = rng.integers(0, ink.shape[0] * 2, size=2)
    canvas[top : top + ink.shape[0], left : left + ink.shape[1]] = ink
    return on_paper(canvas, rng)


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
}
