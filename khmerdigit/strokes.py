"""Pen-stroke model of handwritten Khmer digits, for font-free synthetic training data."""

import numpy as np
from PIL import Image, ImageDraw

# Control points (x right, y down, unit box) in writing order. A new stroke starts at a
# pen lift or a sharp turn; a point shared by two strokes stays shared under jitter.
DIGIT_STROKES = {
    0: [[(0.55, 0.08), (0.3, 0.12), (0.17, 0.4), (0.2, 0.75), (0.45, 0.93), (0.7, 0.85),
         (0.82, 0.55), (0.75, 0.2), (0.55, 0.08), (0.38, 0.1)]],
    1: [[(0.47, 0.42), (0.38, 0.5), (0.27, 0.42), (0.3, 0.22), (0.5, 0.1), (0.7, 0.15),
         (0.78, 0.35), (0.7, 0.6), (0.5, 0.78), (0.3, 0.9)]],
    2: [[(0.08, 0.08), (0.18, 0.1), (0.2, 0.35), (0.2, 0.7), (0.32, 0.9), (0.55, 0.95),
         (0.78, 0.86), (0.88, 0.6), (0.86, 0.28), (0.78, 0.16), (0.68, 0.2), (0.62, 0.36)],
        [(0.62, 0.36), (0.55, 0.22), (0.45, 0.2), (0.4, 0.32), (0.45, 0.42)]],
    3: [[(0.14, 0.7), (0.05, 0.76), (0.08, 0.86), (0.16, 0.8), (0.14, 0.55), (0.2, 0.32),
         (0.33, 0.24), (0.46, 0.32), (0.5, 0.55), (0.5, 0.84)],
        [(0.48, 0.45), (0.55, 0.3), (0.7, 0.24), (0.84, 0.32), (0.88, 0.55), (0.88, 0.84)]],
    4: [[(0.3, 0.08), (0.4, 0.14), (0.3, 0.35), (0.16, 0.62), (0.14, 0.82), (0.28, 0.92), (0.55, 0.92),
         (0.86, 0.9)],
        [(0.86, 0.9), (0.66, 0.76), (0.58, 0.62), (0.66, 0.52), (0.88, 0.5)]],
    5: [[(0.7, 0.06), (0.55, 0.16), (0.4, 0.2), (0.3, 0.14), (0.34, 0.06), (0.42, 0.12), (0.36, 0.3),
         (0.2, 0.6), (0.16, 0.82), (0.3, 0.92), (0.55, 0.92), (0.84, 0.9)],
        [(0.84, 0.9), (0.66, 0.76), (0.58, 0.62), (0.66, 0.52), (0.86, 0.5)]],
    6: [[(0.12, 0.42), (0.14, 0.22), (0.3, 0.08), (0.48, 0.08), (0.58, 0.18), (0.58, 0.3),
         (0.55, 0.4)],
        [(0.55, 0.4), (0.68, 0.46), (0.72, 0.6), (0.7, 0.78), (0.62, 0.88), (0.52, 0.86),
         (0.48, 0.74), (0.53, 0.65), (0.62, 0.66)]],
    7: [[(0.22, 0.3), (0.1, 0.24), (0.12, 0.12), (0.22, 0.16), (0.2, 0.45), (0.2, 0.8), (0.27, 0.92),
         (0.36, 0.8), (0.42, 0.48), (0.47, 0.8), (0.56, 0.92), (0.66, 0.84), (0.78, 0.5), (0.86, 0.2),
         (0.9, 0.05)]],
    8: [[(0.72, 0.03), (0.66, 0.1), (0.6, 0.22), (0.48, 0.3), (0.34, 0.32), (0.27, 0.45),
         (0.26, 0.68), (0.33, 0.85), (0.42, 0.8), (0.48, 0.64)],
        [(0.48, 0.64), (0.52, 0.8), (0.6, 0.88), (0.68, 0.78), (0.7, 0.58), (0.66, 0.48)]],
    9: [[(0.75, 0.04), (0.65, 0.12), (0.55, 0.28), (0.42, 0.36), (0.3, 0.42), (0.3, 0.52),
         (0.42, 0.56), (0.55, 0.55)],
        [(0.55, 0.55), (0.38, 0.6), (0.28, 0.7), (0.3, 0.85), (0.45, 0.92), (0.58, 0.88),
         (0.6, 0.78), (0.53, 0.74)]],
}
# Other common ways of writing some digits, chosen as often as the main form.
DIGIT_VARIANTS = {
    5: [[[(0.58, 0.18), (0.5, 0.06), (0.38, 0.1), (0.4, 0.22), (0.52, 0.24), (0.45, 0.4), (0.36, 0.62),
          (0.34, 0.82), (0.44, 0.93), (0.6, 0.9)],
         [(0.6, 0.9), (0.52, 0.76), (0.5, 0.64), (0.58, 0.58), (0.68, 0.6)]]],
    7: [[[(0.14, 0.72), (0.05, 0.8), (0.1, 0.9), (0.18, 0.82), (0.16, 0.5), (0.22, 0.25), (0.35, 0.18),
          (0.48, 0.28), (0.5, 0.55), (0.52, 0.8), (0.6, 0.9), (0.72, 0.85), (0.8, 0.6), (0.84, 0.3),
          (0.88, 0.08)]]],
}

_SS = 4  # supersampling factor
_T = np.linspace(0, 1, 8, endpoint=False)[:, None]
_CATMULL_ROM = 0.5 * np.hstack([-_T + 2 * _T**2 - _T**3, 2 - 5 * _T**2 + 3 * _T**3,
                                _T + 4 * _T**2 - 3 * _T**3, _T**3 - _T**2])


def _spline(p: np.ndarray) -> np.ndarray:
    """Dense polyline through control points p (n, 2): uniform Catmull-Rom."""
    p = np.vstack([2 * p[0] - p[1], p, 2 * p[-1] - p[-2]])
    segs = np.stack([p[i:i + 4] for i in range(len(p) - 3)])
    return np.vstack([np.einsum("tk,skd->std", _CATMULL_ROM, segs).reshape(-1, 2), p[-2]])


def _jittered_strokes(digit: int, rng: np.random.Generator) -> list[np.ndarray]:
    """The digit's control points, jittered, slanted, rotated and stretched (never mirrored)."""
    forms = [DIGIT_STROKES[digit], *DIGIT_VARIANTS.get(digit, [])]
    strokes = [np.array(s, dtype=float) for s in forms[rng.integers(len(forms))]]
    pts = np.concatenate(strokes)
    uniq, inv = np.unique(pts, axis=0, return_inverse=True)
    pts = (uniq + rng.normal(0, 0.02, uniq.shape))[inv.ravel()]
    angle, shear = rng.normal(0, 0.08), rng.uniform(-0.15, 0.35)
    stretch = np.exp(rng.normal(0, 0.12))
    cos, sin = np.cos(angle), np.sin(angle)
    m = np.array([[cos, -sin], [sin, cos]]) @ np.array([[stretch, -shear], [0, 1 / stretch]])
    return np.split(pts @ m.T, np.cumsum([len(s) for s in strokes])[:-1])


def _pen_path(line: np.ndarray, step: float, gap: bool,
              rng: np.random.Generator) -> list[np.ndarray]:
    """Resample a polyline every `step` px, trim its ends randomly, maybe leave a pen-up gap."""
    arc = np.concatenate([[0], np.cumsum(np.linalg.norm(np.diff(line, axis=0), axis=1))])
    t = np.arange(rng.uniform(0, 0.04) * arc[-1], arc[-1] * (1 - rng.uniform(0, 0.04)), step)
    pts = np.column_stack([np.interp(t, arc, line[:, 0]), np.interp(t, arc, line[:, 1])])
    if gap and arc[-1] > 30 * step:
        start, length = rng.uniform(0.3, 0.7) * arc[-1], rng.uniform(4, 6.5) * step
        cut = (t > start) & (t < start + length)
        return [pts[: np.argmax(cut)], pts[~cut][np.argmax(cut):]]
    return [pts]


def render_digit(digit: int, rng: np.random.Generator, size: int = 64) -> Image.Image:
    """A handwritten-looking `digit` (0-9), dark ink on white, mode "L", size x size."""
    n = size * _SS
    lines = [_spline(p) for p in _jittered_strokes(digit, rng)]
    lo, hi = np.concatenate(lines).min(0), np.concatenate(lines).max(0)
    width, fill = rng.uniform(0.045, 0.1) * n, rng.uniform(0.6, 0.85)
    scale = (fill * n - width) / (hi - lo).max()
    shift = rng.uniform(-0.25, 0.25, 2) * (1 - fill) * n  # stays inside the box
    offset = n / 2 + shift - scale * (lo + hi) / 2
    img = Image.new("L", (n, n), 255)
    draw = ImageDraw.Draw(img)
    ink = int(rng.integers(0, 60))
    gap = rng.integers(len(lines)) if rng.random() < 0.15 else -1
    for i, line in enumerate(lines):
        for pts in _pen_path(line * scale + offset, width / 3, i == gap, rng):
            phase = np.arange(len(pts)) * rng.uniform(0.02, 0.1) + rng.uniform(0, 2 * np.pi)
            radii = width / 2 * (1 + rng.uniform(0, 0.3) * np.sin(phase))
            for (x, y), r in zip(pts, radii):
                draw.ellipse((x - r, y - r, x + r, y + r), fill=ink)
    return img.resize((size, size), Image.Resampling.BOX)
