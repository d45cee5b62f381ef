"""The whole-digit verifier: how likely a candidate digit cut from a number is exactly one whole digit.

`read` asks it about every way of cutting a number into digits, because the digit classifier alone
is as sure of half a digit, or of two touching digits, as of one whole digit. It does not see the
single-digit preprocessing (which scales every candidate to the same size) but the candidate in
its context (`Segmentation.context`): at the number's scale, with its neighbours' ink beside it.
Its examples: `khmerdigit.verifier_data`; training it: `khmerdigit.verifier_training`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from khmerdigit import KhmerDigitError, __version__
from khmerdigit.models import VERIFIER_INPUT
from khmerdigit.predictor import ASSETS, METADATA_FORMAT, checked_metadata, model_runner
from khmerdigit.segment import CONTEXT_WIDTH, Segmentation

BUNDLED_VERIFIER = ASSETS / "verifier.tflite"
VERIFIER_TASK = "whole-digit"


def verifier_metadata(parameters: int, **extra) -> dict:
    """What a runtime needs to use a verifier model correctly."""
    return {"format": METADATA_FORMAT, "task": VERIFIER_TASK, "input_shape": list(VERIFIER_INPUT),
            "context_width": CONTEXT_WIDTH, "parameters": parameters, "khmerdigit": __version__, **extra}


class Verifier:
    """A whole-digit verifier model (.keras or .tflite, with its metadata)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.metadata = checked_metadata(self.path, VERIFIER_TASK, {"input_shape": list(VERIFIER_INPUT),
                                                                    "context_width": CONTEXT_WIDTH}, "verifier")
        self.runner = model_runner(self.path)

    def whole_probabilities(self, segmentation: Segmentation, groups: list[tuple[int, int]]) -> np.ndarray:
        """For each candidate (a, b): the probability that it is exactly one whole digit."""
        size = VERIFIER_INPUT[0]
        windows = np.stack([segmentation.context(a, b, size) for a, b in groups]).astype(np.float32)
        return self.runner(windows)[:, 0]


def load_verifier(path: Optional[Path] = None) -> Verifier:
    """Load a verifier model, by default the bundled one."""
    path = Path(path) if path else BUNDLED_VERIFIER
    if not path.is_file():
        raise KhmerDigitError(f"verifier model not found: {path}")
    return Verifier(path)
