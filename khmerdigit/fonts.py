"""Fonts with the Khmer digits: the bundled Noto Sans Khmer and any installed on the system."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from khmerdigit import KHMER_GLYPHS, KhmerDigitError

SYSTEM_FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts")
FONT_NAME_HINTS = ("khmer", "mondulkiri", "battambang", "bokor", "moul", "siemreap", "hanuman", "koulen")


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
