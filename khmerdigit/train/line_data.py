"""Examples for the line reader: composed numbers as it sees them. No TensorFlow here: worker processes
import this module."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import numpy as np

from khmerdigit import KhmerDigitError
from khmerdigit.data.augment import capture, defocus, vary_shape, work_ink
from khmerdigit.data.compose import DigitPool, compose_number
from khmerdigit.progress import Track, no_track
from khmerdigit.reading.line_reader import line_image
from khmerdigit.reading.segment import clean_ink
from khmerdigit.runtime.preprocess import ink_map
from khmerdigit.runtime.registry import LINE, network_metadata

MAX_DIGITS = 10  # the longest number the line reader is trained on (the shortest: one digit alone)
TOUCHING = (0.0, 0.5, 1.0)  # chance that neighbours touch, one picked per training number
CAPTURED = {"photo": 0.2, "screen": 0.1, "scan": 0.1}  # shares of numbers captured so (the rest: ink on paper)
SHAPE_VARIED = 0.8  # share of digits whose shape is varied (`vary_shape`): the pools hold few writers
SHAPE_STRENGTH = 0.6  # how far (the digit model's training varies real digits at 1.0; numbers add their own slant)


def line_metadata(parameters: int, **extra) -> dict:
    """The metadata of a new line-reader model."""
    return network_metadata(LINE, parameters, **extra)


_worker_pools: list[DigitPool] = []  # a worker process's copy of the digit pools, sent once


def share_pools(pools: list[DigitPool]) -> None:
    _worker_pools[:] = pools


def number_example(seed: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """One composed number (1 to MAX_DIGITS digits, from the shared pools, most of them written a little
    differently) as the line reader sees it, sometimes photographed, drawn on a screen or scanned, and its
    digits padded with -1."""
    rng = np.random.default_rng(seed)
    digits = rng.integers(0, 10, int(rng.integers(1, MAX_DIGITS + 1)))
    inks = []
    for digit in digits:
        pool = _worker_pools[int(rng.integers(len(_worker_pools)))][digit]
        ink = pool[int(rng.integers(len(pool)))]
        inks.append(vary_shape(work_ink(ink), rng, SHAPE_STRENGTH) if rng.random() < SHAPE_VARIED else ink)
    gray, _ = compose_number(inks, float(rng.choice(TOUCHING)), rng)
    kind = rng.choice([*CAPTURED, "paper"], p=[*CAPTURED.values(), 1 - sum(CAPTURED.values())])
    if kind != "paper":
        ink = ink_map(gray)
        gray = capture(defocus(ink, rng.uniform(0.5, 1.2)) if rng.random() < 0.3 else ink, str(kind), rng)
    labels = np.full(MAX_DIGITS, -1, np.int32)
    labels[: len(digits)] = digits
    return line_image(clean_ink(gray)).astype(np.float16), labels


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
