"""Training the whole-digit verifier on examples from `khmerdigit.train.verifier_data`. Imports TensorFlow."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from khmerdigit.data.compose import DigitPool
from khmerdigit.progress import Track, no_track
from khmerdigit.runtime.backend import import_keras, set_seeds
from khmerdigit.runtime.registry import WHOLE_DIGIT, network_metadata
from khmerdigit.train.architectures import whole_digit_cnn
from khmerdigit.train.trainer import SeededBatches, save_model
from khmerdigit.train.verifier_data import CandidateScorer, verifier_examples

keras = import_keras()


class FlippedBatches(SeededBatches):
    """Shuffled batches, each example flipped left-right and upside down at random: a flipped whole
    digit is still one whole glyph, and a flipped fragment still a fragment."""

    def __init__(self, x: np.ndarray, y: np.ndarray, batch_size: int, seed: int):
        self.x, self.y = x, y
        super().__init__(len(y), batch_size, seed)

    def __getitem__(self, index: int):
        chosen, rng = self.batch(index)
        batch = self.x[chosen].astype(np.float32)
        across, upside_down = (rng.random(len(chosen)) < 0.5 for _ in range(2))
        batch[across] = batch[across][:, :, ::-1]
        batch[upside_down] = batch[upside_down][:, ::-1]
        return batch, self.y[chosen]


@dataclass
class VerifierResult:
    """What training made and how well it does on held-out numbers."""

    model: Path
    examples: int
    whole_share: float
    valid_accuracy: float
    epochs: int


def fit_verifier(model, examples: tuple[np.ndarray, np.ndarray], valid: tuple[np.ndarray, np.ndarray], out: Path,
                 epochs: int, learning_rate: float, seed: int) -> VerifierResult:
    """Fit `model` (both kinds of mistake weighted alike), keep its best epoch on `valid`, save it as `out`."""
    (x, y), (x_valid, y_valid) = examples, valid
    batches = FlippedBatches(x, y, 128, seed)
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=epochs * len(batches))
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="binary_crossentropy", metrics=["accuracy"])
    whole_share = float(y.mean())
    weights = {0: 0.5 / (1 - whole_share), 1: 0.5 / whole_share}
    keep_best = keras.callbacks.EarlyStopping("val_loss", patience=epochs, restore_best_weights=True)  # never stops
    history = model.fit(batches, epochs=epochs, class_weight=weights, verbose=0,
                        validation_data=(x_valid.astype(np.float32), y_valid), callbacks=[keep_best])
    best_epoch = int(np.argmin(history.history["val_loss"]))
    accuracy = float(history.history["val_accuracy"][best_epoch])
    save_model(model, Path(out), network_metadata(WHOLE_DIGIT, model.count_params(), examples=len(y),
                                                   valid_accuracy=round(accuracy, 4)))
    return VerifierResult(Path(out), len(y), whole_share, accuracy, best_epoch + 1)


def train_verifier(pools: list[DigitPool], out: Path, numbers: int = 4000, epochs: int = 14, seed: int = 0,
                   workers: int = os.cpu_count() or 1, track: Track = no_track) -> VerifierResult:
    """Train the verifier on candidates from `numbers` composed numbers (a tenth held out) and save
    it as `out` (.keras) with its metadata."""
    valid_numbers = max(1, numbers // 10)
    examples = verifier_examples(pools, numbers - valid_numbers, seed, workers, track)
    valid = verifier_examples(pools, valid_numbers, seed + 1_000_003, workers, track)
    set_seeds(seed)
    return fit_verifier(whole_digit_cnn(keras), examples, valid, out, epochs, 2e-3, seed)


def refine_verifier(pools: list[DigitPool], reader: CandidateScorer, start: Path, out: Path, numbers: int = 1500,
                    epochs: int = 6, seed: int = 0, workers: int = os.cpu_count() or 1,
                    track: Track = no_track) -> VerifierResult:
    """A round of hard-negative mining: go on training the verifier `start` (.keras; `reader.verifier`
    is the same model as .tflite) on fresh numbers whose examples include the candidates the reader
    scores highest but that are not whole digits; save it as `out`."""
    valid_numbers = max(1, numbers // 10)
    examples = verifier_examples(pools, numbers - valid_numbers, seed + 2_000_003, workers, track, reader)
    valid = verifier_examples(pools, valid_numbers, seed + 3_000_003, workers, track, reader)
    set_seeds(seed)
    model = keras.saving.load_model(start, compile=False, safe_mode=True)
    return fit_verifier(model, examples, valid, out, epochs, 5e-4, seed)
