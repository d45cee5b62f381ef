"""Pen-stroke model of handwritten Khmer digits, for font-free synthetic training data.

Every digit has several named styles (the ways real people write it, learnt by looking at real
handwriting by many writers). A rendered digit is one style whose strokes are then varied one by
one: per-point jitter, each stroke's own scale and turn about its join (proportions and joins),
stem height (how far ascenders and tails rise above the body), entry and exit flicks, and pen
lifts, before the whole digit is slanted, turned and stretched (never mirrored).
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

Stroke = list[tuple[float, float]]

# Control points (x right, y down, unit box; ascenders may go above 0) in writing order. A new
# stroke starts at a pen lift or a sharp turn; a stroke that starts where the previous one ended
# stays joined to it under jitter. The first style of each digit is its classic form.
DIGIT_STYLES: dict[int, dict[str, list[Stroke]]] = {
    0: {
        "oval": [[(0.55, 0.08), (0.3, 0.12), (0.17, 0.4), (0.2, 0.75), (0.45, 0.93), (0.7, 0.85),
                  (0.82, 0.55), (0.75, 0.2), (0.55, 0.08), (0.38, 0.1)]],
        "open top": [[(0.45, 0.1), (0.26, 0.22), (0.17, 0.52), (0.28, 0.85), (0.55, 0.93), (0.78, 0.72),
                      (0.8, 0.4), (0.68, 0.15), (0.56, 0.1)]],
        "tilted": [[(0.75, 0.12), (0.45, 0.1), (0.18, 0.35), (0.12, 0.7), (0.35, 0.9), (0.65, 0.8),
                    (0.85, 0.45), (0.8, 0.15), (0.6, 0.12)]],
        "tick": [[(0.62, 0.4), (0.45, 0.3), (0.25, 0.4), (0.2, 0.72), (0.42, 0.92), (0.68, 0.82),
                  (0.75, 0.55), (0.72, 0.25), (0.74, 0.08)]],
        "boxy": [[(0.5, 0.1), (0.22, 0.12), (0.18, 0.5), (0.22, 0.88), (0.55, 0.92), (0.8, 0.85),
                  (0.82, 0.45), (0.75, 0.12), (0.5, 0.1)]],
    },
    1: {
        "curl": [[(0.47, 0.42), (0.38, 0.5), (0.27, 0.42), (0.3, 0.22), (0.5, 0.1), (0.7, 0.15),
                  (0.78, 0.35), (0.7, 0.6), (0.5, 0.78), (0.3, 0.9)]],
        "open hook": [[(0.3, 0.42), (0.24, 0.26), (0.38, 0.12), (0.6, 0.1), (0.76, 0.26), (0.72, 0.5),
                       (0.52, 0.72), (0.3, 0.9)]],
        "spiral": [[(0.45, 0.36), (0.56, 0.44), (0.48, 0.56), (0.34, 0.5), (0.32, 0.34), (0.45, 0.2),
                    (0.62, 0.18), (0.75, 0.3), (0.74, 0.5), (0.6, 0.7), (0.45, 0.84), (0.36, 0.92)]],
        "seven": [[(0.3, 0.3), (0.26, 0.16), (0.42, 0.1), (0.65, 0.1), (0.76, 0.18), (0.7, 0.38),
                   (0.56, 0.62), (0.48, 0.9)]],
    },
    2: {
        "round": [[(0.08, 0.08), (0.18, 0.1), (0.2, 0.35), (0.2, 0.7), (0.32, 0.9), (0.55, 0.95),
                   (0.78, 0.86), (0.88, 0.6), (0.86, 0.28), (0.78, 0.16), (0.68, 0.2), (0.62, 0.36)],
                  [(0.62, 0.36), (0.55, 0.22), (0.45, 0.2), (0.4, 0.32), (0.45, 0.42)]],
        "tall stem": [[(0.1, -0.25), (0.2, -0.18), (0.2, 0.2), (0.2, 0.6), (0.26, 0.86), (0.45, 0.96),
                       (0.68, 0.94), (0.84, 0.8), (0.86, 0.55), (0.74, 0.36), (0.56, 0.38), (0.5, 0.55),
                       (0.6, 0.68)]],
        "boxy": [[(0.15, 0.1), (0.17, 0.5), (0.2, 0.9)],
                 [(0.2, 0.9), (0.5, 0.9), (0.84, 0.88)],
                 [(0.84, 0.88), (0.86, 0.5), (0.84, 0.2)],
                 [(0.84, 0.2), (0.62, 0.26), (0.46, 0.36), (0.62, 0.5), (0.44, 0.64)]],
        "heart": [[(0.14, 0.12), (0.18, 0.5), (0.26, 0.85), (0.5, 0.95), (0.74, 0.86), (0.86, 0.55),
                   (0.82, 0.18), (0.66, 0.3)],
                  [(0.66, 0.3), (0.52, 0.15), (0.4, 0.26), (0.46, 0.46), (0.58, 0.5)]],
        "entry hook": [[(0.34, 0.2), (0.22, 0.06), (0.12, 0.2), (0.16, 0.55), (0.28, 0.88), (0.55, 0.95),
                        (0.8, 0.82), (0.86, 0.5), (0.75, 0.3), (0.6, 0.36), (0.58, 0.55), (0.68, 0.6)]],
    },
    3: {
        "curl foot": [[(0.14, 0.7), (0.05, 0.76), (0.08, 0.86), (0.16, 0.8), (0.14, 0.55), (0.2, 0.32),
                       (0.33, 0.24), (0.46, 0.32), (0.5, 0.55), (0.5, 0.84)],
                      [(0.48, 0.45), (0.55, 0.3), (0.7, 0.24), (0.84, 0.32), (0.88, 0.55), (0.88, 0.84)]],
        "hook top": [[(0.04, 0.2), (0.1, 0.08), (0.18, 0.16), (0.18, 0.5), (0.18, 0.88)],
                     [(0.18, 0.88), (0.2, 0.45), (0.32, 0.26), (0.45, 0.3), (0.5, 0.55), (0.5, 0.88)],
                     [(0.5, 0.88), (0.52, 0.45), (0.64, 0.26), (0.8, 0.3), (0.86, 0.55), (0.86, 0.9)]],
        "big loop": [[(0.22, 0.62), (0.08, 0.62), (0.06, 0.84), (0.2, 0.88), (0.2, 0.55), (0.24, 0.3),
                      (0.36, 0.2), (0.48, 0.3), (0.5, 0.88)],
                     [(0.5, 0.5), (0.58, 0.28), (0.72, 0.2), (0.85, 0.3), (0.86, 0.6), (0.9, 0.88)]],
        "flat": [[(0.16, 0.62), (0.06, 0.7), (0.1, 0.82), (0.16, 0.76), (0.14, 0.4), (0.22, 0.3),
                  (0.4, 0.3), (0.48, 0.4), (0.48, 0.8)],
                 [(0.48, 0.4), (0.6, 0.3), (0.8, 0.3), (0.88, 0.4), (0.86, 0.8), (0.96, 0.86)]],
    },
    4: {
        "classic": [[(0.3, 0.08), (0.4, 0.14), (0.3, 0.35), (0.16, 0.62), (0.14, 0.82), (0.28, 0.92),
                     (0.55, 0.92), (0.86, 0.9)],
                    [(0.86, 0.9), (0.66, 0.76), (0.58, 0.62), (0.66, 0.52), (0.88, 0.5)]],
        "loop": [[(0.26, 0.1), (0.2, 0.5), (0.2, 0.9), (0.5, 0.9)],
                 [(0.5, 0.9), (0.75, 0.86), (0.86, 0.7), (0.76, 0.55), (0.62, 0.62), (0.62, 0.8),
                  (0.76, 0.92), (0.94, 0.86)]],
        "box": [[(0.2, 0.12), (0.19, 0.5), (0.18, 0.88)], [(0.18, 0.88), (0.5, 0.89), (0.86, 0.88)],
                [(0.86, 0.88), (0.86, 0.55)], [(0.86, 0.55), (0.58, 0.55)], [(0.58, 0.55), (0.58, 0.88)]],
        "angled": [[(0.5, 0.06), (0.34, 0.35), (0.12, 0.78), (0.24, 0.9), (0.55, 0.9), (0.86, 0.88)],
                   [(0.86, 0.88), (0.62, 0.8), (0.56, 0.66), (0.66, 0.56), (0.88, 0.56)]],
        "curved": [[(0.55, 0.14), (0.32, 0.18), (0.14, 0.5), (0.2, 0.84), (0.45, 0.92), (0.86, 0.9)],
                   [(0.86, 0.9), (0.66, 0.8), (0.6, 0.66), (0.7, 0.56), (0.88, 0.58)]],
    },
    5: {
        "curl top": [[(0.7, 0.06), (0.55, 0.16), (0.4, 0.2), (0.3, 0.14), (0.34, 0.06), (0.42, 0.12),
                      (0.36, 0.3), (0.2, 0.6), (0.16, 0.82), (0.3, 0.92), (0.55, 0.92), (0.84, 0.9)],
                     [(0.84, 0.9), (0.66, 0.76), (0.58, 0.62), (0.66, 0.52), (0.86, 0.5)]],
        "narrow": [[(0.58, 0.18), (0.5, 0.06), (0.38, 0.1), (0.4, 0.22), (0.52, 0.24), (0.45, 0.4),
                    (0.36, 0.62), (0.34, 0.82), (0.44, 0.93), (0.6, 0.9)],
                   [(0.6, 0.9), (0.52, 0.76), (0.5, 0.64), (0.58, 0.58), (0.68, 0.6)]],
        "bar": [[(0.06, 0.2), (0.3, 0.15), (0.58, 0.12)],
                [(0.3, 0.04), (0.28, 0.5), (0.24, 0.88), (0.52, 0.9)],
                [(0.52, 0.9), (0.76, 0.86), (0.86, 0.7), (0.76, 0.55), (0.62, 0.62), (0.62, 0.8),
                 (0.76, 0.92), (0.94, 0.86)]],
        "big loop": [[(0.8, 0.02), (0.6, 0.2), (0.4, 0.3), (0.24, 0.22), (0.3, 0.06), (0.46, 0.12),
                      (0.4, 0.4), (0.24, 0.68), (0.2, 0.88), (0.5, 0.9), (0.84, 0.88)],
                     [(0.84, 0.88), (0.64, 0.8), (0.58, 0.66), (0.68, 0.58), (0.88, 0.6)]],
        "slash": [[(0.06, 0.5), (0.35, 0.3), (0.65, 0.14), (0.96, 0.0)],
                  [(0.32, 0.14), (0.28, 0.5), (0.2, 0.88), (0.5, 0.9), (0.84, 0.88)],
                  [(0.84, 0.88), (0.64, 0.8), (0.58, 0.66), (0.68, 0.58), (0.88, 0.6)]],
        "cross": [[(0.4, 0.1), (0.32, 0.04), (0.3, 0.4), (0.26, 0.88), (0.55, 0.9), (0.86, 0.88)],
                  [(0.86, 0.88), (0.64, 0.8), (0.58, 0.66), (0.68, 0.58), (0.88, 0.6)],
                  [(0.1, 0.28), (0.32, 0.25), (0.56, 0.2)]],
    },
    6: {
        "classic": [[(0.12, 0.42), (0.14, 0.22), (0.3, 0.08), (0.48, 0.08), (0.58, 0.18), (0.58, 0.3),
                     (0.55, 0.4)],
                    [(0.55, 0.4), (0.68, 0.46), (0.72, 0.6), (0.7, 0.78), (0.62, 0.88), (0.52, 0.86),
                     (0.48, 0.74), (0.53, 0.65), (0.62, 0.66)]],
        "flat top": [[(0.2, 0.3), (0.18, 0.1), (0.45, 0.08), (0.62, 0.12), (0.6, 0.3), (0.45, 0.42)],
                     [(0.45, 0.42), (0.7, 0.5), (0.78, 0.72), (0.62, 0.9), (0.4, 0.88), (0.34, 0.76)]],
        "inner loop": [[(0.14, 0.38), (0.2, 0.14), (0.4, 0.06), (0.58, 0.14), (0.56, 0.32), (0.45, 0.42)],
                       [(0.45, 0.42), (0.68, 0.48), (0.78, 0.7), (0.66, 0.9), (0.44, 0.88), (0.4, 0.7),
                        (0.54, 0.62), (0.6, 0.74), (0.5, 0.78)]],
        "open": [[(0.08, 0.2), (0.28, 0.06), (0.56, 0.08), (0.68, 0.22), (0.5, 0.4)],
                 [(0.5, 0.4), (0.74, 0.52), (0.78, 0.76), (0.6, 0.92), (0.36, 0.9)]],
    },
    7: {
        "classic": [[(0.22, 0.3), (0.1, 0.24), (0.12, 0.12), (0.22, 0.16), (0.2, 0.45), (0.2, 0.8),
                     (0.27, 0.92), (0.36, 0.8), (0.42, 0.48), (0.47, 0.8), (0.56, 0.92), (0.66, 0.84),
                     (0.78, 0.5), (0.86, 0.2), (0.9, 0.05)]],
        "arch": [[(0.14, 0.72), (0.05, 0.8), (0.1, 0.9), (0.18, 0.82), (0.16, 0.5), (0.22, 0.25),
                  (0.35, 0.18), (0.48, 0.28), (0.5, 0.55), (0.52, 0.8), (0.6, 0.9), (0.72, 0.85),
                  (0.8, 0.6), (0.84, 0.3), (0.88, 0.08)]],
        "tall right": [[(0.2, 0.5), (0.08, 0.44), (0.1, 0.34), (0.2, 0.38), (0.2, 0.7), (0.26, 0.92),
                        (0.36, 0.84), (0.42, 0.6), (0.48, 0.84), (0.58, 0.92), (0.7, 0.8), (0.76, 0.4),
                        (0.8, 0.0), (0.84, -0.3)]],
        "hump": [[(0.2, 0.3), (0.08, 0.25), (0.1, 0.12), (0.22, 0.15), (0.2, 0.5), (0.22, 0.85),
                  (0.32, 0.92), (0.42, 0.8), (0.45, 0.45), (0.52, 0.28), (0.66, 0.24), (0.8, 0.3),
                  (0.84, 0.6), (0.8, 0.9)]],
        "flat": [[(0.2, 0.28), (0.08, 0.22), (0.1, 0.1), (0.2, 0.14), (0.2, 0.88)],
                 [(0.2, 0.88), (0.45, 0.88), (0.47, 0.4)],
                 [(0.47, 0.4), (0.5, 0.88), (0.75, 0.88), (0.8, 0.1)]],
        "wide round": [[(0.2, 0.34), (0.06, 0.26), (0.1, 0.12), (0.22, 0.18), (0.2, 0.55), (0.24, 0.84),
                        (0.36, 0.94), (0.5, 0.84), (0.55, 0.5), (0.57, 0.3), (0.6, 0.6), (0.68, 0.88),
                        (0.82, 0.94), (0.96, 0.82), (1.02, 0.5), (1.04, 0.12)]],
        "mid loop": [[(0.12, 0.08), (0.1, 0.35), (0.12, 0.52), (0.26, 0.48), (0.26, 0.62), (0.13, 0.62),
                      (0.13, 0.8), (0.24, 0.94), (0.4, 0.9), (0.48, 0.6), (0.53, 0.2), (0.6, 0.6), (0.68, 0.88),
                      (0.84, 0.94), (1.0, 0.84), (1.06, 0.5), (1.06, 0.1)]],
        "roof": [[(0.2, 0.7), (0.08, 0.78), (0.12, 0.9), (0.22, 0.84), (0.2, 0.45), (0.24, 0.15),
                  (0.42, 0.08), (0.68, 0.1), (0.9, 0.14), (0.98, 0.4), (0.96, 0.75), (0.88, 0.92),
                  (0.76, 0.88), (0.74, 0.74)]],
    },
    8: {
        "classic": [[(0.72, 0.03), (0.66, 0.1), (0.6, 0.22), (0.48, 0.3), (0.34, 0.32), (0.27, 0.45),
                     (0.26, 0.68), (0.33, 0.85), (0.42, 0.8), (0.48, 0.64)],
                    [(0.48, 0.64), (0.52, 0.8), (0.6, 0.88), (0.68, 0.78), (0.7, 0.58), (0.66, 0.48)]],
        "long tail": [[(1.05, -0.3), (0.85, -0.05), (0.62, 0.22), (0.4, 0.3), (0.22, 0.42), (0.16, 0.7),
                       (0.28, 0.9), (0.42, 0.82), (0.48, 0.62)],
                      [(0.48, 0.62), (0.54, 0.86), (0.72, 0.92), (0.86, 0.72), (0.86, 0.4)]],
        "open bowl": [[(0.34, 0.14), (0.16, 0.08), (0.14, 0.5), (0.18, 0.88), (0.4, 0.88), (0.48, 0.66)],
                      [(0.48, 0.66), (0.56, 0.9), (0.8, 0.88), (0.86, 0.5), (0.84, 0.08)]],
        "flat top": [[(0.24, 0.32), (0.12, 0.24), (0.18, 0.1), (0.5, 0.12), (0.76, 0.14), (0.55, 0.3),
                      (0.3, 0.42), (0.22, 0.62), (0.3, 0.88), (0.45, 0.76), (0.5, 0.6)],
                     [(0.5, 0.6), (0.56, 0.86), (0.76, 0.88), (0.84, 0.65), (0.78, 0.45)]],
        "short tail": [[(0.62, 0.2), (0.55, 0.3), (0.4, 0.36), (0.26, 0.45), (0.22, 0.7), (0.3, 0.88),
                        (0.42, 0.8), (0.48, 0.62)],
                       [(0.48, 0.62), (0.54, 0.84), (0.68, 0.88), (0.78, 0.7), (0.76, 0.5), (0.66, 0.42)]],
        "s bowl": [[(0.2, 0.22), (0.12, 0.12), (0.24, 0.05), (0.45, 0.1), (0.62, 0.14), (0.45, 0.35),
                    (0.26, 0.55), (0.14, 0.8), (0.24, 0.93), (0.42, 0.9), (0.48, 0.78)],
                   [(0.48, 0.78), (0.54, 0.92), (0.7, 0.93), (0.82, 0.8), (0.84, 0.55), (0.76, 0.48)]],
    },
    9: {
        "classic": [[(0.75, 0.04), (0.65, 0.12), (0.55, 0.28), (0.42, 0.36), (0.3, 0.42), (0.3, 0.52),
                     (0.42, 0.56), (0.55, 0.55)],
                    [(0.55, 0.55), (0.38, 0.6), (0.28, 0.7), (0.3, 0.85), (0.45, 0.92), (0.58, 0.88),
                     (0.6, 0.78), (0.53, 0.74)]],
        "looped": [[(0.5, 0.26), (0.4, 0.3), (0.28, 0.22), (0.34, 0.08), (0.58, 0.06), (0.72, 0.18),
                    (0.6, 0.38), (0.4, 0.46)],
                   [(0.4, 0.46), (0.24, 0.56), (0.22, 0.78), (0.4, 0.92), (0.64, 0.9), (0.76, 0.74),
                    (0.66, 0.6), (0.52, 0.68)]],
        "long tail": [[(1.15, -0.05), (0.85, 0.08), (0.58, 0.22), (0.36, 0.36), (0.26, 0.46), (0.34, 0.54),
                       (0.5, 0.52)],
                      [(0.5, 0.52), (0.32, 0.6), (0.24, 0.76), (0.36, 0.9), (0.56, 0.88), (0.6, 0.76)]],
        "upright": [[(0.6, -0.1), (0.6, 0.12), (0.54, 0.3), (0.38, 0.36), (0.3, 0.46), (0.4, 0.54),
                     (0.55, 0.52)],
                    [(0.55, 0.52), (0.36, 0.6), (0.28, 0.74), (0.36, 0.9), (0.55, 0.9), (0.6, 0.8)]],
        "wave": [[(0.9, 0.04), (0.76, 0.2), (0.66, 0.1), (0.54, 0.22), (0.38, 0.34), (0.28, 0.44),
                  (0.36, 0.54), (0.52, 0.52)],
                 [(0.52, 0.52), (0.34, 0.6), (0.26, 0.76), (0.38, 0.9), (0.58, 0.88), (0.62, 0.76),
                  (0.54, 0.72)]],
        "flat tail": [[(1.2, 0.02), (0.9, 0.1), (0.6, 0.18), (0.35, 0.24), (0.22, 0.34), (0.16, 0.55),
                       (0.18, 0.8), (0.3, 0.93), (0.46, 0.9), (0.52, 0.76), (0.44, 0.64), (0.3, 0.68)]],
    },
}
# The classic form of each digit, and the other styles (kept for callers of the old names).
DIGIT_STROKES = {digit: next(iter(styles.values())) for digit, styles in DIGIT_STYLES.items()}
DIGIT_VARIANTS = {digit: list(styles.values())[1:] for digit, styles in DIGIT_STYLES.items()}

_SS = 4  # supersampling factor
_T = np.linspace(0, 1, 8, endpoint=False)[:, None]
_CATMULL_ROM = 0.5 * np.hstack([-_T + 2 * _T**2 - _T**3, 2 - 5 * _T**2 + 3 * _T**3,
                                _T + 4 * _T**2 - 3 * _T**3, _T**3 - _T**2])


def styles(digit: int) -> list[str]:
    """The names of the ways `digit` is written, classic first."""
    return list(DIGIT_STYLES[digit])


def _spline(p: np.ndarray) -> np.ndarray:
    """Dense polyline through control points p (n, 2): uniform Catmull-Rom."""
    if len(p) == 2:
        p = np.vstack([p[0], (p[0] + p[1]) / 2, p[1]])
    p = np.vstack([2 * p[0] - p[1], p, 2 * p[-1] - p[-2]])
    segs = np.stack([p[i:i + 4] for i in range(len(p) - 3)])
    return np.vstack([np.einsum("tk,skd->std", _CATMULL_ROM, segs).reshape(-1, 2), p[-2]])


def _flick(stroke: np.ndarray, at_end: bool, rng: np.random.Generator) -> np.ndarray:
    """Add a short entry (at_end False) or exit flick: the pen's lead-in or lead-out, bent a little."""
    tip, before = (stroke[-1], stroke[-2]) if at_end else (stroke[0], stroke[1])
    direction = (tip - before) / (np.linalg.norm(tip - before) + 1e-9)
    turn = rng.uniform(-0.9, 0.9)
    c, s = np.cos(turn), np.sin(turn)
    extra = tip + rng.uniform(0.04, 0.12) * np.array([c * direction[0] - s * direction[1],
                                                       s * direction[0] + c * direction[1]])
    return np.vstack([stroke, extra]) if at_end else np.vstack([extra, stroke])


def _styled_strokes(digit: int, style: str, rng: np.random.Generator) -> list[np.ndarray]:
    """The style's control points varied stroke by stroke, then slanted, turned and stretched."""
    strokes = [np.array(s, dtype=float) for s in DIGIT_STYLES[digit][style]]
    pts = np.concatenate(strokes)
    uniq, inv = np.unique(pts, axis=0, return_inverse=True)
    uniq = uniq + rng.normal(0, 0.022, uniq.shape)
    # stem height: ascenders, tails and entry hooks (above y = 0.3) rise higher or sink lower
    top = 0.3
    rise = rng.uniform(-0.35, 0.9) if rng.random() < 0.6 else 0.0
    uniq[:, 1] -= rise * np.clip(top - uniq[:, 1], 0, None)
    pts = uniq[inv.ravel()]
    strokes = np.split(pts, np.cumsum([len(s) for s in strokes])[:-1])
    # each stroke its own size and turn, about its first point (so a join stays joined)
    for i in range(len(strokes)):
        if i == 0 and len(strokes) == 1:
            continue
        s = strokes[i]
        grow = np.exp(rng.normal(0, 0.1, 2))
        angle = rng.normal(0, 0.08)
        c, sn = np.cos(angle), np.sin(angle)
        m = np.array([[c, -sn], [sn, c]]) @ np.diag(grow)
        joined = i > 0 and np.allclose(s[0], strokes[i - 1][-1])
        pivot = s[0] if joined else s.mean(0)
        strokes[i] = (s - pivot) @ m.T + pivot + (0 if joined else rng.normal(0, 0.02, 2))
    # entry and exit flicks on the first and last stroke
    if rng.random() < 0.2:
        strokes[0] = _flick(strokes[0], False, rng)
    if rng.random() < 0.25:
        strokes[-1] = _flick(strokes[-1], True, rng)
    angle, shear = rng.normal(0, 0.08), rng.uniform(-0.15, 0.35)
    stretch = np.exp(rng.normal(0, 0.13))
    cos, sin = np.cos(angle), np.sin(angle)
    m = np.array([[cos, -sin], [sin, cos]]) @ np.array([[stretch, -shear], [0, 1 / stretch]])
    return [s @ m.T for s in strokes]


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


def render_digit_variant(digit: int, rng: np.random.Generator, size: int = 64,
                         variant: str | None = None) -> tuple[Image.Image, str]:
    """A handwritten-looking `digit` (0-9) in a random (or the given) style, and the style's name.

    Dark ink on white, mode "L", size x size.
    """
    names = styles(digit)
    if variant is None:
        variant = names[int(rng.integers(len(names)))]
    elif variant not in DIGIT_STYLES[digit]:
        raise ValueError(f"digit {digit} has no style {variant!r}; it has {', '.join(names)}")
    n = size * _SS
    lines = [_spline(p) for p in _styled_strokes(digit, variant, rng)]
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
    return img.resize((size, size), Image.Resampling.BOX), variant


def render_digit(digit: int, rng: np.random.Generator, size: int = 64,
                 variant: str | None = None) -> Image.Image:
    """A handwritten-looking `digit` (0-9), dark ink on white, mode "L", size x size."""
    return render_digit_variant(digit, rng, size, variant)[0]
