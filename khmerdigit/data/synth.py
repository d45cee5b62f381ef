"""Synthetic labelled digits from fonts and our own pen-stroke model, with realistic distortion."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from khmerdigit import KHMER_GLYPHS, NUM_CLASSES, KhmerDigitError
from khmerdigit.data.augment import distort
from khmerdigit.data.dataset import save_gray
from khmerdigit.data.strokes import render_digit_variant
from khmerdigit.fileio import write_json
from khmerdigit.fonts import bundled_font, find_fonts
from khmerdigit.progress import Track, no_track
from khmerdigit.runtime.preprocess import PreprocessConfig, preprocess

RENDER_SIDE = 96  # fonts are drawn on a canvas this large before distortion
FONT_SHARE = 0.5  # share of samples drawn from fonts when fonts are available
PREVIEW_COLUMNS = 16
PREVIEW_POOL = 8 * PREVIEW_COLUMNS  # samples per digit the preview chooses its tiles from (every style among them)
TILE = 48  # preview tile side (the preprocessed image)
TILE_W, CAPTION_H, HEADER_W, TITLE_H = 72, 14, 96, 24
FONT_COLOUR, STROKE_COLOUR = (170, 30, 30), (20, 70, 180)


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
    styles: Counter = Counter()
    pool: dict[int, list[tuple[str, bool, np.ndarray]]] = {digit: [] for digit in range(NUM_CLASSES)}
    jobs = [(digit, index) for index in range(per_class) for digit in range(NUM_CLASSES)]
    for digit, index in track(jobs, "Synthesizing"):
        if fonts and rng.random() < FONT_SHARE:
            font = fonts[int(rng.integers(len(fonts)))]
            source, gray = font.stem, render_font_digit(font, digit, rng)
            label, is_font = font.stem, True
        else:
            image, style = render_digit_variant(digit, rng, RENDER_SIDE)
            source, gray = "strokes", np.asarray(image, np.float32) / 255.0
            label, is_font = style, False
            styles[f"{digit} {style}"] += 1
        gray = distort(gray, rng, strength)
        path = out_dir / str(digit) / f"{source}_{index:05d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        save_gray(gray, path)
        counts[source] += 1
        if len(pool[digit]) < PREVIEW_POOL:
            pool[digit].append((label, is_font, preprocess(gray, PreprocessConfig(size=TILE))[..., 0]))
    preview_path = out_dir / "preview.png"
    title = f"synth preview: seed {seed}, {per_class} per digit, strength {strength:g}"
    preview_sheet({d: choose_preview_tiles(tiles) for d, tiles in pool.items()}, title).save(preview_path)
    write_json(out_dir / "synth.json", {"per_class": per_class, "seed": seed, "strength": strength,
                                        "fonts": [str(f) for f in fonts], "sources": dict(counts),
                                        "stroke_styles": dict(sorted(styles.items()))})
    return SynthResult(out_dir, counts, fonts, preview_path)


def _distinct_first(tiles: list, count: int) -> list:
    """Up to `count` of `tiles`: the first of every label, then the others, in order."""
    seen: set[str] = set()
    first = [i for i, t in enumerate(tiles) if not (t[0] in seen or seen.add(t[0]))]
    rest = sorted(set(range(len(tiles))) - set(first))
    return [tiles[i] for i in first + rest][:count]


def choose_preview_tiles(tiles: list[tuple[str, bool, np.ndarray]],
                         columns: int = PREVIEW_COLUMNS) -> list[tuple[str, bool, np.ndarray]]:
    """Up to `columns` tiles, half pen-stroke styles and half fonts when both exist, one of every style or
    font first; fonts first, then styles, each grouped by name."""
    strokes, fonts = [t for t in tiles if not t[1]], [t for t in tiles if t[1]]
    n_strokes = max(columns - len(fonts), min(len(strokes), (columns + 1) // 2))
    chosen = _distinct_first(strokes, n_strokes)
    chosen += _distinct_first(fonts, columns - len(chosen))
    return sorted(chosen, key=lambda t: (not t[1], t[0]))


def short_font_name(stem: str) -> str:
    """A font file's stem, short enough for a caption: "KhmerOSsiemreap" -> "OS siemreap"."""
    stem = stem.split("[")[0]
    if stem.startswith("NotoSansKhmer"):
        return ("Noto Khmer " + stem[len("NotoSansKhmer"):].lstrip("-_ ")).strip()
    for long, short in (("KhmerOS", "OS "), ("Khmer", "")):
        if stem.startswith(long) and stem != long:
            return (short + stem[len(long):].lstrip("-_ ")).strip()
    return stem


def _font(size: int, khmer: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = bundled_font() if khmer else None
    if path is not None:
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size)


def _fit(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> str:
    """`text`, cut with an ellipsis to fit `width` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def preview_sheet(rows: dict[int, list[tuple[str, bool, np.ndarray]]], title: str = "") -> Image.Image:
    """The labelled preview: a row per digit headed by its glyph and number, a caption under every tile
    naming its font (red) or pen-stroke style (blue)."""
    columns = max((len(tiles) for tiles in rows.values()), default=0)
    row_h = TILE + CAPTION_H + 6
    sheet = Image.new("RGB", (HEADER_W + columns * TILE_W, TITLE_H + len(rows) * row_h), "white")
    draw = ImageDraw.Draw(sheet)
    small, text, glyph_font = _font(10), _font(13), _font(34, khmer=True)
    draw.text((6, 5), title, fill="black", font=text)
    x = 6 + draw.textlength(title, font=text) + 16
    draw.text((x, 5), "font", fill=FONT_COLOUR, font=text)
    x += draw.textlength("font", font=text) + 12
    draw.text((x, 5), "pen-stroke style", fill=STROKE_COLOUR, font=text)
    for r, (digit, tiles) in enumerate(rows.items()):
        top = TITLE_H + r * row_h
        draw.line((0, top, sheet.width, top), fill=(200, 200, 200))
        draw.text((8, top + 6), KHMER_GLYPHS[digit], fill="black", font=glyph_font)
        draw.text((54, top + 18), str(digit), fill="black", font=_font(22))
        for c, (label, is_font, tile) in enumerate(tiles):
            left = HEADER_W + c * TILE_W
            image = Image.fromarray(np.round(np.clip(tile, 0, 1) * 255).astype(np.uint8), "L")
            sheet.paste(image.convert("RGB"), (left + (TILE_W - TILE) // 2, top + 3))
            caption = _fit(draw, short_font_name(label) if is_font else label, small, TILE_W - 4)
            draw.text((left + TILE_W / 2, top + 3 + TILE + 1), caption, anchor="mt", font=small,
                      fill=FONT_COLOUR if is_font else STROKE_COLOUR)
    return sheet
