"""The `read --debug-image` picture: the number read, written above the image, and each digit's box
with its reading (Khmer glyph, digit, confidence) below it; uncertain digits in red."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from khmerdigit import percent
from khmerdigit.fileio import atomic_path, display_path
from khmerdigit.fonts import bundled_font
from khmerdigit.reading.reader import NumberReading
from khmerdigit.runtime.preprocess import ImageSource, as_gray

MIN_HEIGHT = 240  # the image is enlarged to at least this height (when that keeps it within MAX_WIDTH)
MAX_WIDTH = 2400
SURE, UNSURE, TEXT = (20, 140, 50), (210, 30, 30), (30, 30, 30)


def label_font(size: int) -> ImageFont.ImageFont:
    """A font with the Khmer digits when the bundled one is installed, else Pillow's default."""
    path = bundled_font()
    return ImageFont.truetype(str(path), size) if path else ImageFont.load_default(size)


def text_width(draw: ImageDraw.ImageDraw, text: str, font) -> int:
    left, _, right, _ = draw.textbbox((0, 0), text, font=font)
    return right - left


def draw_debug(source: ImageSource, reading: NumberReading, target: Path) -> None:
    """Save the image, enlarged, with the number read above it and each digit's box and reading drawn."""
    gray = as_gray(source)
    height, width = gray.shape
    scale = max(1, min(math.ceil(MIN_HEIGHT / height), MAX_WIDTH // width))
    image = Image.fromarray(np.round(np.clip(gray, 0, 1) * 255).astype(np.uint8), "L").convert("RGB")
    image = image.resize((width * scale, height * scale), Image.Resampling.NEAREST)

    size = int(np.clip(image.height * 0.09, 16, 40))  # label text, in proportion to the enlarged image
    font, big, small = label_font(size), label_font(round(size * 1.5)), label_font(max(14, round(size * 0.8)))
    pad = size // 2
    measure = ImageDraw.Draw(image)
    uncertain = [d for d in reading.digits if d.uncertain]
    title = f"read {reading.khmer}  =  {reading.arabic}" if reading.digits else "no digits found"
    threshold = f"{reading.threshold * 100:g}%"
    note = (f"number {percent(reading.confidence)} confident; "
            + (f"{len(uncertain)} of {len(reading.digits)} digits below {threshold} (red)" if uncertain
               else f"every digit at least {threshold}")
            + (f"; the line reader reads {reading.line_reading or 'no digit'}" if reading.line_disagrees else "")
            + (f"; {reading.warning}" if reading.warning else ""))
    source_name = Path(display_path(reading.source)).name

    # Labels under the boxes, centred; a label that would overlap its left neighbour goes one row lower.
    labels, row_ends = [], []
    for digit in reading.digits:
        lines = (f"{digit.glyph} {digit.label}", percent(digit.confidence))
        label_width = max(text_width(measure, line, font) for line in lines) + pad
        centre = (digit.box.left + digit.box.right) / 2 * scale
        left = int(np.clip(centre - label_width / 2, 0, max(0, image.width - label_width)))
        row = next((r for r, end in enumerate(row_ends) if left >= end), len(row_ends))
        if row == len(row_ends):
            row_ends.append(0)
        row_ends[row] = left + label_width
        labels.append((digit, lines, left, label_width, row))
    line_height = round(size * 1.25)
    label_rows = max(1, len(row_ends))

    header = pad + round(size * 1.5 * 1.3) + line_height + pad
    footer = pad + label_rows * 2 * line_height + pad
    canvas_width = max(image.width, text_width(measure, title, big) + 2 * pad,
                       text_width(measure, note, small) + text_width(measure, source_name, small) + 4 * pad)
    canvas = Image.new("RGB", (canvas_width, header + image.height + footer), "white")
    canvas.paste(image, (0, header))
    draw = ImageDraw.Draw(canvas)
    draw.text((pad, pad), title, fill=TEXT, font=big)
    draw.text((pad, pad + round(size * 1.5 * 1.3)), note, fill=UNSURE if reading.uncertain else SURE, font=small)
    draw.text((canvas_width - pad, pad + round(size * 1.5 * 1.3)), source_name, fill=(120, 120, 120), font=small,
              anchor="ra")

    line = max(2, scale // 2 + 1)
    for digit, lines, left, label_width, row in labels:
        colour = UNSURE if digit.uncertain else SURE
        box = digit.box
        corners = (box.left * scale, box.top * scale + header, box.right * scale - 1, box.bottom * scale + header - 1)
        draw.rectangle(corners, outline=colour, width=line)
        top = header + image.height + pad + row * 2 * line_height
        middle = left + label_width / 2
        draw.line((middle, corners[3], middle, top), fill=colour, width=1)
        draw.text((middle, top), lines[0], fill=colour, font=font, anchor="ma")
        draw.text((middle, top + line_height), lines[1], fill=colour, font=font, anchor="ma")
    with atomic_path(Path(target)) as tmp:
        canvas.save(tmp, "PNG")
