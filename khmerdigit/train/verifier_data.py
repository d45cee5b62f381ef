"""Examples for the whole-digit verifier: candidates cut from composed numbers, labelled whole or not.

Numbers are composed from single digits (`khmerdigit.data.compose`), so the true pixels of every digit
are known. Each is segmented exactly as `read` does it; a candidate whose ink matches one digit's
ink is a whole digit, one that holds part of a digit, or parts of two, is not. Given a `CandidateScorer`
(the models `read` uses), each number also gives the non-whole candidates that the reader scores
highest: hard negatives, for a second round of training. No TensorFlow here: worker processes
import this module.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from multiprocessing import get_context
from pathlib import Path
from typing import Optional

import numpy as np
from scipy import ndimage

from khmerdigit import KhmerDigitError
from khmerdigit.data.compose import DigitPool, compose_number
from khmerdigit.progress import Track, no_track
from khmerdigit.reading.reader import SplitWeights, score_candidates
from khmerdigit.reading.segment import Segmentation, segment
from khmerdigit.reading.verifier import Verifier
from khmerdigit.runtime.classifier import Classifier
from khmerdigit.runtime.registry import WHOLE_DIGIT

WHOLE, PART = 0.9, 0.75  # a candidate is whole when it matches one digit this well (`candidate_match`),
# and not whole below the lower figure; in between it is too close to call and left out
NEAR_MISS = 0.4  # candidates matching a digit at least this well, but not whole, are near misses
MERGED = 0.6  # a candidate holding this share of the ink of two or more digits merges them
OWNER_DISTANCE = 3  # ink this close to a digit's drawn pixels is that digit's (blur, soft edges)
WHOLE_PER_DIGIT = 3  # many cuts give nearly the same whole digit; a few of them are enough
NEGATIVES_PER_NUMBER = 20  # candidates that are not whole digits, sampled from each number...
MERGES_PER_NUMBER, NEAR_MISSES_PER_NUMBER = 6, 8  # ...up to this many merges and near misses among them
HARD_NEGATIVES_PER_NUMBER = 10  # with a `CandidateScorer`: this many more, the ones it scores highest
TOUCHING = (0.0, 0.5, 1.0)  # chance that neighbours touch, one picked per number
LENGTHS = (2, 8)


def digit_shares(segmentation: Segmentation, groups: list[tuple[int, int]],
                 digit_masks: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """For each candidate and digit: the share of the candidate's ink that the digit drew, and the share
    of the digit's ink that the candidate holds; (candidates, digits) each."""
    owners = np.zeros(segmentation.ink.shape, int)  # which digit drew each pixel, 0 for none
    for index, mask in enumerate(digit_masks, 1):
        owners[mask & (owners == 0)] = index
    distance, (near_rows, near_cols) = ndimage.distance_transform_edt(owners == 0, return_indices=True)
    owners = np.where(distance <= OWNER_DISTANCE, owners[near_rows, near_cols], 0)
    rows = segmentation.rows
    pixel_owner = owners[rows, segmentation.cols - segmentation.shifts[rows]]
    digit_size = np.bincount(pixel_owner, minlength=len(digit_masks) + 1)[1:]
    counts = np.array([np.bincount(pixel_owner[segmentation.pixels(a, b)], minlength=len(digit_masks) + 1)
                       for a, b in groups]).reshape(len(groups), len(digit_masks) + 1)
    return counts[:, 1:] / np.maximum(1, counts.sum(axis=1, keepdims=True)), counts[:, 1:] / np.maximum(1, digit_size)


def best_match(share: np.ndarray, held: np.ndarray) -> np.ndarray:
    """How well each candidate matches one digit, from `digit_shares`: the share of its ink that belongs
    to the digit it overlaps most, or the share of that digit's ink it holds, whichever is smaller
    (1 = exactly one digit)."""
    best, picked = share.argmax(axis=1), np.arange(len(share))
    return np.minimum(share[picked, best], held[picked, best])


def candidate_match(segmentation: Segmentation, groups: list[tuple[int, int]],
                    digit_masks: list[np.ndarray]) -> np.ndarray:
    """`best_match` of each candidate."""
    return best_match(*digit_shares(segmentation, groups, digit_masks))


@lru_cache(maxsize=2)
def load_reader(classifier: Path, verifier: Path) -> tuple[Classifier, Verifier]:
    return Classifier(classifier), Verifier(verifier)


@dataclass(frozen=True)
class CandidateScorer:
    """The models `read` uses (.tflite files: worker processes load them without TensorFlow)."""

    classifier: Path
    verifier: Path

    def candidate_scores(self, segmentation: Segmentation, groups: list[tuple[int, int]]) -> np.ndarray:
        """How highly `read` scores each candidate as one digit of a split."""
        candidates = score_candidates(segmentation, groups, *load_reader(self.classifier, self.verifier))
        return candidates.scores(SplitWeights())


def number_examples(pools: list[DigitPool], seed: tuple[int, int],
                    reader: Optional[CandidateScorer] = None) -> tuple[np.ndarray, np.ndarray]:
    """Verifier inputs and labels from one composed number: its whole digits and some other candidates:
    two or more digits merged, near misses (part of a digit, or a digit with part of its neighbour) and
    others; with a `reader`, also the non-whole candidates it scores highest."""
    rng = np.random.default_rng(seed)
    digits = rng.integers(0, 10, int(rng.integers(LENGTHS[0], LENGTHS[1] + 1)))
    inks = []
    for digit in digits:
        pool = pools[int(rng.integers(len(pools)))][digit]
        inks.append(pool[int(rng.integers(len(pool)))])
    gray, masks = compose_number(inks, float(rng.choice(TOUCHING)), rng)
    segmentation = segment(gray)
    groups = segmentation.groups()
    share, held = digit_shares(segmentation, groups, masks)
    match, merged = best_match(share, held), (held >= MERGED).sum(axis=1) >= 2
    whole = rng.permutation(np.flatnonzero(match >= WHOLE))[: WHOLE_PER_DIGIT * len(digits)]
    merges = rng.permutation(np.flatnonzero(merged & (match < PART)))[:MERGES_PER_NUMBER]
    near = rng.permutation(np.flatnonzero(~merged & (match < PART) & (match >= NEAR_MISS)))[:NEAR_MISSES_PER_NUMBER]
    others = np.setdiff1d(np.flatnonzero(match < PART), np.r_[merges, near])
    others = rng.permutation(others)[: NEGATIVES_PER_NUMBER - len(merges) - len(near)]
    chosen = np.r_[whole, merges, near, others].astype(int)
    if reader is not None:
        negatives = np.flatnonzero(match < PART)
        scores = reader.candidate_scores(segmentation, groups)
        hardest = negatives[np.argsort(-scores[negatives], kind="stable")][:HARD_NEGATIVES_PER_NUMBER]
        chosen = np.r_[chosen, np.setdiff1d(hardest, chosen)]
    windows = [segmentation.context(*groups[i], WHOLE_DIGIT.input_shape[0]) for i in chosen]
    x = np.stack(windows).astype(np.float16) if windows else np.zeros((0, *WHOLE_DIGIT.input_shape), np.float16)
    return x, (match[chosen] >= WHOLE).astype(np.float32)


_worker_inputs: dict = {}  # a worker process's copy of the digit pools and reader, sent once


def share_inputs(pools: list[DigitPool], reader: Optional[CandidateScorer]) -> None:
    _worker_inputs.update(pools=pools, reader=reader)


def shared_input_examples(seed: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    return number_examples(_worker_inputs["pools"], seed, _worker_inputs["reader"])


def verifier_examples(pools: list[DigitPool], numbers: int, seed: int = 0, workers: int = 1,
                      track: Track = no_track, reader: Optional[CandidateScorer] = None) -> tuple[np.ndarray, np.ndarray]:
    """Examples from `numbers` composed numbers (seeded; the same whatever `workers`), with hard
    negatives when given a `reader`."""
    if not any(any(pool.values()) for pool in pools):
        raise KhmerDigitError("no digit images to compose numbers from")
    seeds = [(seed, n) for n in range(numbers)]
    if workers > 1:  # spawned, not forked: TensorFlow may already be loaded in this process
        with ProcessPoolExecutor(workers, get_context("spawn"), initializer=share_inputs,
                                 initargs=(pools, reader)) as pool:
            results = list(track(pool.map(shared_input_examples, seeds, chunksize=16), "Composing numbers",
                                 total=numbers))
    else:
        results = [number_examples(pools, s, reader) for s in track(seeds, "Composing numbers")]
    return np.concatenate([x for x, _ in results]), np.concatenate([y for _, y in results])
