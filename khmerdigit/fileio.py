"""Files: atomic writes (a crash never leaves a half-written file behind) and finding the images a user names."""

from __future__ import annotations

import contextlib
import glob
import json
import os
import tempfile
from pathlib import Path
from typing import Iterator

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".pbm"}


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; rename it over `target` only on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=target.suffix)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~current_umask())  # mkstemp makes owner-only files
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(target: Path, text: str) -> None:
    """Write `text` to `target` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(target: Path, data: object) -> None:
    """Write `data` as indented JSON to `target` atomically."""
    write_text(target, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def read_json(path: Path) -> dict:
    """Read a JSON file."""
    return json.loads(Path(path).read_text(encoding="utf-8"))



def display_path(path: object) -> str:
    """A path as printable UTF-8 text, even when its name is not valid UTF-8 (shown as \\xNN)."""
    return str(path).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def expand_image_paths(patterns: list[str]) -> tuple[Iterator[Path], list[str]]:
    """Files, folders (recursively, image types only) and glob patterns -> paths, lazily; and the patterns that
    named no image.

    The second list holds the patterns that match nothing at once, and gains the folders (and globs) without
    any image file as the paths are consumed: read it after the iterator is exhausted.
    `no_images_reason(pattern)` says why a pattern is in it.
    """
    unmatched = [p for p in patterns if not Path(p).exists() and not Path(p).is_symlink()
                 and not glob.glob(p, recursive=True)]

    def folder_images(folder: Path) -> Iterator[Path]:
        for parent, dirs, files in os.walk(folder):
            dirs.sort()
            yield from (Path(parent) / f for f in sorted(files) if Path(f).suffix.lower() in IMAGE_SUFFIXES)

    def paths() -> Iterator[Path]:
        for pattern in patterns:
            if pattern in unmatched:
                continue
            path, found = Path(pattern), 0
            if path.is_dir():
                for found, image in enumerate(folder_images(path), 1):
                    yield image
            elif path.exists() or path.is_symlink():
                found = 1
                yield path
            else:
                for match in sorted(glob.glob(pattern, recursive=True)):
                    for image in folder_images(Path(match)) if Path(match).is_dir() else [Path(match)]:
                        found += 1
                        yield image
            if not found:
                unmatched.append(pattern)

    return paths(), unmatched


def no_images_reason(pattern: str) -> str:
    """Why `pattern` named no image (for a pattern that expand_image_paths left unmatched)."""
    path = Path(pattern)
    if path.is_dir():
        return f"folder without image files ({', '.join(sorted(IMAGE_SUFFIXES))})"
    if path.exists() or glob.glob(pattern, recursive=True):
        return "matches no image files"
    return "no such file, folder or matching images"
