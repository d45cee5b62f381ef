"""Synthetic labelled digits from fonts and our own pen-stroke model, with realistic distortion."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from khmerdigit import KHMER_GLYPHS, NUM_CLASSES, KhmerDigitError
from khmerdigit.augment import distort
from khmerdigit.dataset import Track, no_track, save_gray
from khmerdigit.fileio import write_json
from khmerdigit.preprocess import PreprocessConfig, preprocess
from khmerdigit.strokes import render_digit

SYSTEM_FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts")
FONT_NAME_HINTS = ("khmer", "mondulkiri", "battambang", "bokor", "moul", "siemreap", "hanuman", "koulen")
RENDER_SIDE = 96  # fonts are drawn on a canvas this large before distortion
FONT_SHARE = 0.5  # share of samples drawn from fonts when fonts are available
PREVIEW_COLUMNS = 16


def bundled_font() -> Optional[Path]:
    """The variable Noto Sans Khmer font from the fontpkg-noto-sans-khmer package, if installed."""
    try:
        import fontpkg_noto_sans_khmer
    except ImportError:
        return None
    return next(iter(sorted((Path(fontpkg_noto_sans_khmer.__file__).parent / "files").glob("*.ttf"))), None)


def has_khmer_digits(path: Path) -> bool:
    """True if the font maps all ten Khmer digit code points."""
    from fontTools.ttLib import TTFont

    try:
        cmap = TTFont(path, lazy=True).getBestCmap() or {}
    except Exception:  # fontTools raises many types for broken font files
        return False
    return all(ord(glyph) in cmap for glyph in KHMER_GLYPHS)


def find_fonts(extra: tuple[Path, ...] = ()) -> list[Path]:
    """Fonts to draw from: the bundled Noto Sans Khmer, Khmer fonts installed on the system, and `extra`."""
    for path in extra:
        if not Path(path).is_file() or not has_khmer_digits(Path(path)):
            raise KhmerDigitError(f"--font {path}: not a font file with the Khmer digits ០-៩")
    system = [
        path for folder in SYSTEM_FONT_DIRS if folder.is_dir() for path in sorted(folder.rglob("*"))
        if path.suffix.lower() in (".ttf", ".otf") and any(h in path.name.lower() for h in FONT_NAME_HINTS)
    ]
    candidates = [p for p in [bundled_font(), *system] if p is not None]
    return [*dict.fromkeys([Path(p) for p in extra] + [p for p in candidates if has_khmer_digits(p)])]


def render_font_digit(font_path: Path, digit: int, rng: np.random.Generator) -> np.ndarray:
    """Draw one digit with a font, at a random variable-font instance if the font has axes."""
    font = ImageFont.truetype(str(font_path), size=int(RENDER_SIDE * rng.uniform(0.45, 0.7)))
    try:
        axes = font.get_variation_axes()
    except OSError:  # not a variable font
        axes = []
    if axes:
        font.set_variation_by_axes([rng.uniform(axis["minimum"], axis["maximum"]) for axis in axes])
    image = Image.new("L", (RENDER_SIDE, RENDER_SIDE), 255)
    ImageDraw.Draw(image).text((RENDER_SIDE / 2, RENDER_SIDE / 2), KHMER_GLYPHS[digit], fill=0, font=font,
                               anchor="mm")
    return np.asarray(image, dtype=np.float32) / 255.0


@dataclass
class SynthResult:
    out_dir: Path
    counts: Counter  # samples per source
    fonts: list[Path]
    preview: Path


def synthesize(out_dir: Path, per_class: int = 500, seed: int = 0, extra_fonts: tuple[Path, ...] = (),
               use_fonts: bool = True, strength: float = 1.0, track: Track = no_track) -> SynthResult:
    """Write OUT_DIR/<digit>/<source>_<n>.png for every digit, plus preview.png and synth.json."""
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise KhmerDigitError(f"{out_dir} is not empty; choose a new folder")
    fonts = find_fonts(tuple(extra_fonts)) if use_fonts else []
    rng = np.random.default_rng(seed)
    counts: Counter = Counter()
    preview: dict[int, list[np.ndarray]] = {digit: [] for digit in range(NUM_CLASSES)}
    jobs = [(digit, index) for index in range(per_class) for digit in range(NUM_CLASSES)]
    for digit, index in track(jobs, "Synthesizing"):
        if fonts and rng.random() < FONT_SHARE:
            font = fonts[int(rng.integers(len(fonts)))]
            source, gray = font.stem, render_font_digit(font, digit, rng)
        else:
            source, gray = "strokes", np.asarray(render_digit(digit, rng, RENDER_SIDE), np.float32) / 255.0
        gray = distort(gray, rng, strength)
        path = out_dir / str(digit) / f"{source}_{index:05d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        save_gray(gray, path)
        counts[source] += 1
        if len(preview[digit]) < PREVIEW_COLUMNS:
            preview[digit].append(preprocess(gray, PreprocessConfig(size=48))[..., 0])
    preview_path = out_dir / "preview.png"
    sheet = np.concatenate([np.concatenate(row, axis=1) for row in preview.values()], axis=0)
    Image.fromarray(np.round(sheet * 255).astype(np.uint8), "L").save(preview_path)
    write_json(out_dir / "synth.json", {"per_class": per_class, "seed": seed, "strength": strength,
                                        "fonts": [str(f) for f in fonts], "sources": dict(counts)})
    return SynthResult(out_dir, counts, fonts, preview_path)
