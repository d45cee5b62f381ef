"""Training the line reader on composed numbers (`khmerdigit.train.line_data`). Imports TensorFlow."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from khmerdigit.data.compose import DigitPool
from khmerdigit.progress import Track, no_track
from khmerdigit.reading.line_reader import best_path
from khmerdigit.runtime.backend import import_keras, set_seeds
from khmerdigit.train.architectures import LINE_COLUMNS, line_cnn
from khmerdigit.train.line_data import line_examples, line_metadata
from khmerdigit.train.trainer import save_model

keras = import_keras()
ops = keras.ops


def ctc_loss(labels, probabilities):
    """CTC loss of column probabilities (class 0 = no digit) for digit labels padded with -1."""
    labels = ops.cast(labels, "int32")
    lengths = ops.sum(ops.cast(labels >= 0, "int32"), axis=1)
    columns = ops.full((ops.shape(probabilities)[0],), LINE_COLUMNS, dtype="int32")
    return ops.ctc_loss(ops.where(labels >= 0, labels + 1, 0), ops.log(probabilities + 1e-7), lengths, columns,
                        mask_index=0)


def exact_share(model, x: np.ndarray, y: np.ndarray) -> float:
    """Share of the numbers the model reads exactly."""
    read = [best_path(p)[0] for p in model.predict(x.astype(np.float32)[..., None], batch_size=256, verbose=0)]
    return float(np.mean([digits == [d for d in row if d >= 0] for digits, row in zip(read, y)]))


@dataclass
class LineResult:
    """What training made and how well it reads held-out numbers."""

    model: Path
    numbers: int
    valid_exact: float
    epochs: int


def train_line_reader(pools: list[DigitPool], out: Path, numbers: int = 48000, epochs: int = 16, seed: int = 0,
                      workers: int = os.cpu_count() or 1, track: Track = no_track) -> LineResult:
    """Train the line reader on `numbers` composed numbers (a twentieth held out), keep its best epoch
    and save it as `out` (.keras) with its metadata."""
    valid_numbers = max(1, numbers // 20)
    x, y = line_examples(pools, numbers - valid_numbers, seed, workers, track)
    x_valid, y_valid = line_examples(pools, valid_numbers, seed + 1_000_003, workers, track)
    set_seeds(seed)
    model = line_cnn(keras)
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss=ctc_loss)
    callbacks = [keras.callbacks.ReduceLROnPlateau(patience=2, factor=0.3),
                 keras.callbacks.EarlyStopping(patience=epochs, restore_best_weights=True)]  # keeps the best epoch
    history = model.fit(x.astype(np.float32)[..., None], y, batch_size=64, epochs=epochs, verbose=0,
                        callbacks=callbacks, validation_data=(x_valid.astype(np.float32)[..., None], y_valid))
    exact = exact_share(model, x_valid, y_valid)
    save_model(model, Path(out), line_metadata(model.count_params(), numbers=numbers, valid_exact=round(exact, 4)))
    return LineResult(Path(out), numbers, exact, int(np.argmin(history.history["val_loss"])) + 1)
