"""Generates bad and odd inputs for the robustness harness (tests/fuzz and benchmarks/robustness.py)."""

from __future__ import annotations

import io
import os
import random
from pathlib import Path

import numpy as np
from PIL import Image

from khmerdigit.data.strokes import render_digit

FORMATS = {"png": "PNG", "jpg": "JPEG", "gif": "GIF", "webp": "WEBP", "tif": "TIFF"}


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def good_digit(label: int, seed: int) -> Image.Image:
    return render_digit(label, np.random.default_rng([label, seed]), 48)


def make_corpus(root: Path, scale: int = 1, seed: int = 0) -> dict[str, list[Path]]:
    """Write odd inputs under root/<label>/ (and beside it); return the paths of each kind.

    scale=1 gives about 55 inputs; scale=10 about 540.
    """
    rng = random.Random(seed)
    kinds: dict[str, list[Path]] = {}

    def add(kind: str, path: Path) -> Path:
        kinds.setdefault(kind, []).append(path)
        return path

    def put(kind: str, name: str, data: bytes | None = None, label: int | None = None) -> Path:
        folder = root / str(label if label is not None else rng.randrange(10))
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        if data is not None:
            path.write_bytes(data)
        return add(kind, path)

    for n in range(2 * scale):
        put("zero-byte file", f"empty_{n}.png", b"")
    for n in range(10 * scale):
        ext = rng.choice(list(FORMATS))
        put("random bytes with image extension", f"random_{n}.{ext}", rng.randbytes(rng.randrange(1, 4000)))
    for n in range(10 * scale):
        ext = list(FORMATS)[n % len(FORMATS)]
        data = encoded(good_digit(n % 10, n).convert("RGB"), FORMATS[ext])
        put(f"truncated {ext}", f"truncated_{n}.{ext}", data[: rng.randrange(8, max(9, len(data) - 8))])
    for n in range(scale):
        put("decompression bomb", f"bomb_{n}.png", encoded(Image.new("1", (20000 + n, 20000)), "PNG"))
        put("10000x10000 image", f"huge_{n}.png", encoded(Image.new("L", (10000, 10000), 255), "PNG"))
    for n in range(2 * scale):
        label = n % 10
        digit = good_digit(label, 100 + n)
        put("1x1 image", f"tiny_{n}.png", encoded(Image.new("L", (1, 1), n % 2 * 255), "PNG"))
        sixteen = Image.fromarray(np.asarray(digit).astype(np.uint16) * 257)
        put("16-bit image", f"sixteen_{n}.png", encoded(sixteen, "PNG"), label)
        put("CMYK image", f"cmyk_{n}.jpg", encoded(digit.convert("CMYK"), "JPEG"), label)
        palette = digit.convert("RGBA").convert("P")
        put("palette with transparency", f"palette_{n}.png", encoded(palette, "PNG", transparency=0), label)
        frames = [digit.convert("P"), Image.new("P", digit.size, 0)]
        put("animated GIF", f"animated_{n}.gif", encoded(frames[0], "GIF", save_all=True, append_images=frames[1:]),
            label)
        exif = Image.Exif()
        exif[0x0112] = 6
        put("EXIF-rotated photo", f"exif_{n}.jpg", encoded(digit.rotate(90, expand=True).convert("RGB"), "JPEG",
                                                          exif=exif.tobytes()), label)
        put("all-white image", f"white_{n}.png", encoded(Image.new("L", (40, 40), 255), "PNG"))
        put("all-black image", f"black_{n}.png", encoded(Image.new("L", (40, 40), 0), "PNG"))
        put("text file named .png", f"text_{n}.png", b"hello, not an image\n")
        put("directory named .png", f"folder_{n}.png").mkdir()
        put("good image", f"good_{n}.png", encoded(digit, "PNG"), label)
    for n in range(scale):
        folder = root / str(n % 10)
        folder.mkdir(parents=True, exist_ok=True)
        add("symlink loop", folder / f"loop_a_{n}.png").symlink_to(folder / f"loop_b_{n}.png")
        add("symlink loop", folder / f"loop_b_{n}.png").symlink_to(folder / f"loop_a_{n}.png")
        add("symlink loop", folder / f"parent_loop_{n}").symlink_to(folder, target_is_directory=True)
        strange = add("non-UTF-8 file name", Path(os.fsdecode(os.fsencode(folder) + b"/bad_\xff\xfe_%d.png" % n)))
        strange.write_bytes(encoded(good_digit(n % 10, 200 + n), "PNG"))
        put("very long file name", "long_" + "x" * 240 + f"{n}.png", encoded(good_digit(n % 10, 300 + n), "PNG"),
            n % 10)
        unreadable = put("unreadable permissions", f"locked_{n}.png", encoded(good_digit(1, n), "PNG"), 1)
        unreadable.chmod(0)
        other = root / rng.choice(["cats", "10", "x1"])
        other.mkdir(exist_ok=True)
        add("label folder that is not a digit", other / f"stray_{n}.png").write_bytes(
            encoded(good_digit(2, 400 + n), "PNG"))
        add("empty class folder", root / "empty_class" / str(n % 10)).mkdir(parents=True, exist_ok=True)
    return kinds
