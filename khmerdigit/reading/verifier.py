"""The whole-digit verifier: how likely a candidate digit cut from a number is exactly one whole digit.

`read` asks it about every way of cutting a number into digits, because the digit classifier alone
is as sure of half a digit, or of two touching digits, as of one whole digit. It does not see the
single-digit preprocessing (which scales every candidate to the same size) but the candidate in
its context (`Segmentation.context`): at the number's scale, with its neighbours' ink beside it.
Its examples: `khmerdigit.train.verifier_data`; training it: `khmerdigit.train.verifier`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from khmerdigit.reading.segment import Segmentation
from khmerdigit.runtime.registry import WHOLE_DIGIT, checked_metadata, model_file
from khmerdigit.runtime.runners import model_runner


class Verifier:
    """A whole-digit verifier model (.keras or .tflite, with its metadata)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.metadata = checked_metadata(self.path, WHOLE_DIGIT)
        self.runner = model_runner(self.path)

    def whole_probabilities(self, segmentation: Segmentation, groups: list[tuple[int, int]]) -> np.ndarray:
        """For each candidate (a, b): the probability that it is exactly one whole digit."""
        size = WHOLE_DIGIT.input_shape[0]
        windows = np.stack([segmentation.context(a, b, size) for a, b in groups]).astype(np.float32)
        return self.runner(windows)[:, 0]


def load_verifier(path: Optional[Path] = None) -> Verifier:
    """Load a verifier model, by default the bundled one."""
    return Verifier(model_file(WHOLE_DIGIT, path))
