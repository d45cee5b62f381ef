"""khmerdigit: recognise handwritten Khmer digits (០-៩)."""

from __future__ import annotations

__version__ = "0.1.0"

KHMER_GLYPHS = "០១២៣៤៥៦៧៨៩"
NUM_CLASSES = 10


def percent(value: "float | None") -> str:
    """0.951 -> '95.1%'; None -> '—'."""
    return "—" if value is None else f"{value:.1%}"


class KhmerDigitError(Exception):
    """An error the user can fix; the CLI prints it as one line and exits 1."""
