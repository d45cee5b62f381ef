"""Regenerate sample_images/: handwritten-style digits and numbers made by khmerdigit's own stroke model.

    python scripts/make_sample_images.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from khmerdigit import KHMER_GLYPHS
from khmerdigit.data.augment import on_paper
from khmerdigit.data.strokes import render_digit

OUT = Path(__file__).resolve().parents[1] / "sample_images"


def number_image(digits: str, rng: np.random.Generator, size: int = 96) -> Image.Image:
    """Digits drawn side by side with uneven gaps, dark ink on white."""
    canvas = Image.new("L", (size // 2 + len(digits) * size, size + size // 4), 255)
    x = size // 8
    for digit in digits:
        glyph = render_digit(int(digit), rng, size)
        mask = Image.eval(glyph, lambda v: 255 - v)  # paste only the ink
        canvas.paste(glyph, (x, int(rng.integers(0, size // 8))), mask)
        x += int(size * rng.uniform(0.85, 0.95))
    return canvas.crop((0, 0, x + size // 4, canvas.height))


def main() -> None:
    OUT.mkdir(exist_ok=True)
    rng = np.random.default_rng(2025)
    for label, glyph in enumerate(KHMER_GLYPHS):
        render_digit(label, rng, 96).save(OUT / f"digit_{label}.png")
    ink = 1.0 - np.asarray(render_digit(5, rng, 96), np.float32) / 255.0
    for name, options in {"screen_5.png": {"invert": True}, "photo_5.png": {"noise": 0.04, "unevenness": 0.3}}.items():
        gray = on_paper(np.pad(ink, 48), rng, contrast=0.7, **options)
        Image.fromarray(np.round(gray * 255).astype(np.uint8)).save(OUT / name)
    for number in ("2025", "12345"):
        number_image(number, rng).save(OUT / f"number_{number}.png")


if __name__ == "__main__":
    main()
