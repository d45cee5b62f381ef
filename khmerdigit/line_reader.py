"""The line reader: a second opinion on a whole number, read at once rather than digit by digit.

A small convolutional network reads the number's cleaned ink, scaled to a fixed height, as a
sequence of columns and says, for each column, which digit it shows or none; the digits are the
runs of columns (connectionist temporal classification, CTC). It needs no cuts, so it can count
and read digits that touch or reach under each other, where the cuts of `khmerdigit.segment`
fail; `read` uses its reading to choose among the splits the cuts allow. Its examples come from
composed numbers (`khmerdigit.compose`); training it: `khmerdigit.line_training`. No TensorFlow
here: worker processes import this module.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Optional

import numpy as np
from PIL import Image

from khmerdigit import KhmerDigitError, __version__
from khmerdigit.compose import DigitPool, compose_number
from khmerdigit.dataset import Track, no_track
from khmerdigit.models import LINE_INPUT
from khmerdigit.predictor import ASSETS, METADATA_FORMAT, checked_metadata, model_runner
from khmerdigit.segment import Segmentation, mask_box, segment, soft_ink

BUNDLED_LINE_MODEL = ASSETS / "line.tflite"
LINE_TASK = "line"
MAX_DIGITS = 10  # the longest number the line reader is trained on
LINE_MARGIN = 0.15  # margin around the ink, as a share of its height
TOUCHING = (0.0, 0.5, 1.0)  # chance that neighbours touch, one picked per training number


def line_image(segmentation: Segmentation) -> np.ndarray:
    """What the line reader sees: the number's cleaned ink (specks and ruling removed), deslanted, with
    a margin, scaled to the input height and left-aligned on a blank line of the input width (squeezed
    if longer)."""
    height, width = LINE_INPUT[:2]
    line = np.zeros((height, width), np.float32)
    if segmentation.rows.size == 0:
        return line
    kept = np.zeros(segmentation.upright.shape, bool)
    kept[segmentation.rows, segmentation.cols] = True
    box = mask_box(kept)
    pad = round(LINE_MARGIN * box.height)
    ink = np.pad(soft_ink(segmentation.upright, kept, box), pad)
    scaled = min(width, max(1, round(ink.shape[1] * height / ink.shape[0])))
    image = Image.fromarray(ink.astype(np.float32), "F").resize((scaled, height), Image.Resampling.BILINEAR)
    line[:, :scaled] = np.clip(np.asarray(image), 0, 1)
    return line


def best_path(probabilities: np.ndarray) -> tuple[list[int], np.ndarray]:
    """Greedy CTC decoding of (columns, 1 + classes) probabilities, class 0 = no digit: the digits, and
    for each the probabilities of the ten digits at the column of its run where it is most likely."""
    best = probabilities.argmax(axis=1)
    digits: list[int] = []
    peaks: list[int] = []
    previous = 0
    for column, symbol in enumerate(best):
        if symbol and symbol == previous:
            if probabilities[column, symbol] > probabilities[peaks[-1], symbol]:
                peaks[-1] = column
        elif symbol:
            digits.append(int(symbol) - 1)
            peaks.append(column)
        previous = symbol
    shares = probabilities[np.array(peaks, int), 1:]
    return digits, shares / np.maximum(shares.sum(axis=1, keepdims=True), 1e-9)


def line_metadata(parameters: int, **extra) -> dict:
    """What a runtime needs to use a line-reader model correctly."""
    return {"format": METADATA_FORMAT, "task": LINE_TASK, "input_shape": list(LINE_INPUT),
            "line_margin": LINE_MARGIN, "parameters": parameters, "khmerdigit": __version__, **extra}


class LineReader:
    """A line-reader model (.keras or .tflite, with its metadata)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.metadata = checked_metadata(self.path, LINE_TASK, {"input_shape": list(LINE_INPUT),
                                                                "line_margin": LINE_MARGIN}, "line reader")
        self.runner = model_runner(self.path)

    def read(self, segmentation: Segmentation) -> tuple[list[int], np.ndarray]:
        """The digits of the segmented number as the line reader reads them, and for each its
        probabilities of the ten digits (see `best_path`)."""
        return best_path(self.runner(line_image(segmentation)[None, ..., None])[0])


def load_line_reader(path: Optional[Path] = None) -> LineReader:
    """Load a line-reader model, by default the bundled one."""
    path = Path(path) if path else BUNDLED_LINE_MODEL
    if not path.is_file():
        raise KhmerDigitError(f"line-reader model not found: {path}")
    return LineReader(path)


_worker_pools: list[DigitPool] = []  # a worker process's copy of the digit pools, sent once


def share_pools(pools: list[DigitPool]) -> None:
    _worker_pools[:] = pools


def number_example(seed: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """One composed number (2 to MAX_DIGITS digits, from the shared pools) as the line reader sees it,
    and its digits padded with -1."""
    rng = np.random.default_rng(seed)
    digits = rng.integers(0, 10, int(rng.integers(2, MAX_DIGITS + 1)))
    inks = []
    for digit in digits:
        pool = _worker_pools[int(rng.integers(len(_worker_pools)))][digit]
        inks.append(pool[int(rng.integers(len(pool)))])
    gray, _ = compose_number(inks, float(rng.choice(TOUCHING)), rng)
    labels = np.full(MAX_DIGITS, -1, np.int32)
    labels[: len(digits)] = digits
    return line_image(segment(gray)).astype(np.float16), labels


def line_examples(pools: list[DigitPool], numbers: int, seed: int = 0, workers: int = 1,
                  track: Track = no_track) -> tuple[np.ndarray, np.ndarray]:
    """Line images and padded digit labels of `numbers` composed numbers (seeded; the same whatever `workers`)."""
    if not any(any(pool.values()) for pool in pools):
        raise KhmerDigitError("no digit images to compose numbers from")
    seeds = [(seed, n) for n in range(numbers)]
    if workers > 1:  # spawned, not forked: TensorFlow may already be loaded in this process
        with ProcessPoolExecutor(workers, get_context("spawn"), initializer=share_pools, initargs=(pools,)) as pool:
            results = list(track(pool.map(number_example, seeds, chunksize=32), "Composing numbers", total=numbers))
    else:
        share_pools(pools)
        results = [number_example(s) for s in track(seeds, "Composing numbers")]
    return np.stack([x for x, _ in results]), np.stack([y for _, y in results])
