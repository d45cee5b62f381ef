"""Training runs: data loading with on-the-fly augmentation, checkpoints, history, resume.

Imports TensorFlow; the CLI imports this module only inside `train`.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

from khmerdigit import KhmerDigitError, defaults
from khmerdigit.data.augment import distort
from khmerdigit.data.dataset import load_arrays, split_samples
from khmerdigit.fileio import atomic_path, read_json, write_json, write_text
from khmerdigit.progress import Track, no_track
from khmerdigit.runs import HISTORY_FIELDS, new_run_dir, read_history, write_history
from khmerdigit.runtime.backend import import_keras, set_seeds
from khmerdigit.runtime.preprocess import BadImageError, PreprocessConfig, as_gray, preprocess
from khmerdigit.runtime.registry import digits_metadata, metadata_path
from khmerdigit.train.architectures import get_architecture

keras = import_keras()

CLEAN_SHARE = 0.2  # share of training images shown without augmentation


@dataclass
class TrainConfig:
    """Everything that defines a training run; saved as the run's args.json."""

    data: list[str] = field(default_factory=list)  # prepared dataset folders, train splits are combined
    model: str = defaults.MODEL  # architecture name from khmerdigit.train.architectures
    method: Optional[str] = None  # override the architecture's preprocessing method
    epochs: int = defaults.EPOCHS
    batch_size: int = defaults.BATCH_SIZE
    learning_rate: float = defaults.LEARNING_RATE
    patience: int = defaults.PATIENCE
    augment: Optional[float] = None  # augmentation strength, 0 = off; default 1, or 0 for the paper's preprocessing
    seed: int = defaults.SEED
    project: str = str(defaults.RUNS_DIR)  # parent folder of run folders
    name: Optional[str] = None  # run folder name; defaults to the model name, never overwritten


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM during training; `run_dir` holds the last finished epoch, if any."""

    def __init__(self, run_dir: Path):
        super().__init__(str(run_dir))
        self.run_dir = run_dir


stop_requested = threading.Event()  # set by `request_stop`; training checks it after every batch


def request_stop(signum, frame) -> None:
    """Signal handler (Ctrl-C, SIGTERM): stop training as Ctrl-C does. A KeyboardInterrupt that lands
    where Python drops it (in a finalizer) is raised again after the next batch."""
    stop_requested.set()
    raise KeyboardInterrupt


class Reporter:
    """Progress hooks for a training run; the CLI's version draws rich progress bars."""

    def start(self, epochs: int, initial_epoch: int, steps: int) -> None: ...
    def batch(self) -> None: ...
    def epoch(self, epoch: int, logs: dict) -> None: ...


def load_training_images(folders: list[str], track: Track) -> tuple[list[np.ndarray], np.ndarray]:
    """Grayscale train-split images (kept raw for augmentation) and their labels."""
    grays, labels = [], []
    for folder in folders:
        for sample in track(split_samples(Path(folder), "train"), f"Loading {folder}"):
            try:
                grays.append(as_gray(sample.path))
            except BadImageError:
                continue
            labels.append(sample.label)
    if not grays:
        raise KhmerDigitError(f"no training images in {', '.join(folders)} (run khmerdigit prepare first)")
    return grays, np.asarray(labels)


def load_validation(folders: list[str], config: PreprocessConfig, track: Track) -> tuple[np.ndarray, np.ndarray]:
    """Preprocessed valid-split images of every data folder."""
    samples = [s for folder in folders for s in split_samples(Path(folder), "valid")]
    x, y, _, _ = load_arrays(samples, config, track, "Loading validation images")
    if not len(x):
        raise KhmerDigitError("no validation images: the prepared data needs a non-empty 'valid' split")
    return x, y


class SeededBatches(keras.utils.PyDataset):
    """Batches of `count` examples, reshuffled every epoch; deterministic for a seed."""

    def __init__(self, count: int, batch_size: int, seed: int, **kwargs):
        super().__init__(**kwargs)
        self.count, self.batch_size, self.seed = count, batch_size, seed
        self.start_epoch(0)

    def start_epoch(self, epoch: int) -> None:
        """Reshuffle for `epoch` (also used when a run resumes)."""
        self.epoch = epoch
        self.order = np.random.default_rng([self.seed, epoch]).permutation(self.count)

    def __len__(self) -> int:
        return math.ceil(self.count / self.batch_size)

    def batch(self, index: int) -> tuple[np.ndarray, np.random.Generator]:
        """The examples of batch `index`, and a random generator for it."""
        chosen = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        return chosen, np.random.default_rng([self.seed, self.epoch, index])

    def on_epoch_end(self) -> None:
        self.start_epoch(self.epoch + 1)


class AugmentedBatches(SeededBatches):
    """Shuffled batches, freshly distorted every epoch."""

    def __init__(self, grays, labels, config: PreprocessConfig, batch_size: int, strength: float, seed: int):
        self.grays, self.labels, self.config, self.strength = grays, labels, config, strength
        self.clean = np.stack([preprocess(gray, config) for gray in grays])
        super().__init__(len(grays), batch_size, seed, workers=2, use_multiprocessing=False)

    def __getitem__(self, index: int):
        chosen, rng = self.batch(index)
        images = [
            preprocess(distort(self.grays[i], rng, self.strength), self.config)
            if self.strength > 0 and rng.random() > CLEAN_SHARE else self.clean[i]
            for i in chosen
        ]
        return np.stack(images), self.labels[chosen]


def save_model(model, path: Path, metadata: dict) -> None:
    """Save a .keras model and its metadata, each atomically."""
    with atomic_path(path) as tmp:
        model.save(tmp)
    write_json(metadata_path(path), metadata)


class RunRecorder(keras.callbacks.Callback):
    """After every epoch: last.keras, best.keras when val_loss improves, history.csv, state.json."""

    def __init__(self, run_dir: Path, metadata: dict, history: list[dict], best: float, reporter: Reporter):
        super().__init__()
        self.run_dir, self.metadata, self.history = run_dir, metadata, history
        self.best, self.reporter, self.started = best, reporter, time.time()

    def on_train_batch_end(self, batch, logs=None) -> None:
        self.reporter.batch()
        if stop_requested.is_set():
            raise KeyboardInterrupt

    def on_epoch_begin(self, epoch, logs=None) -> None:
        self.started = time.time()

    def on_epoch_end(self, epoch, logs=None) -> None:
        logs = dict(logs or {})
        row = {"epoch": epoch + 1, **{k: float(logs[k]) for k in HISTORY_FIELDS[1:5] if k in logs},
               "learning_rate": float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)),
               "seconds": round(time.time() - self.started, 2)}
        self.history.append(row)
        if row.get("val_loss", math.inf) < self.best:
            self.best = row["val_loss"]
            save_model(self.model, self.run_dir / "best.keras", {**self.metadata, "epoch": epoch + 1})
        save_model(self.model, self.run_dir / "last.keras", {**self.metadata, "epoch": epoch + 1})
        write_history(self.run_dir / "history.csv", self.history)
        write_json(self.run_dir / "state.json", {"epochs_done": epoch + 1, "best_val_loss": self.best})
        self.reporter.epoch(epoch + 1, row)


def model_summary(model) -> str:
    """Keras's layer table with the model's own parameter count (Keras's total adds the optimizer's state)."""
    lines: list[str] = []
    model.summary(print_fn=lambda line, **_: lines.append(line), line_length=78)
    text = "\n".join(lines).splitlines()
    kept = [line for line in text if not line.lstrip().startswith(("Total params", "Optimizer params"))]
    at = next((i for i, line in enumerate(kept) if line.lstrip().startswith("Trainable params")), len(kept))
    kept.insert(at, f" Total params: {model.count_params():,} (trainable + non-trainable; optimizer state not counted)")
    return "\n".join(kept)


def train(config: TrainConfig, reporter: Reporter = Reporter(), track: Track = no_track,
          resume_dir: Optional[Path] = None) -> Path:
    """Train a model as `config` says (or continue `resume_dir`); return the run folder."""
    stop_requested.clear()
    architecture = get_architecture(config.model)
    preprocess_config = PreprocessConfig(architecture.preprocess.size, config.method or architecture.preprocess.method)
    set_seeds(config.seed)
    grays, labels = load_training_images(config.data, track)
    x_valid, y_valid = load_validation(config.data, preprocess_config, track)
    if config.augment is None:  # the paper's preprocessing cannot undo inverted or shifted digits
        config.augment = 0.0 if preprocess_config.method == "paper" else 1.0
    batches = AugmentedBatches(grays, labels, preprocess_config, config.batch_size, config.augment, config.seed)

    if resume_dir is None:
        run_dir = new_run_dir(Path(config.project), config.name or config.model)
        model = architecture.build(keras)
        model.compile(optimizer=keras.optimizers.Adam(config.learning_rate), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        history, best, initial_epoch = [], math.inf, 0
    else:
        run_dir = Path(resume_dir)
        model = keras.saving.load_model(run_dir / "last.keras", safe_mode=True)
        state = read_json(run_dir / "state.json")
        history = read_history(run_dir / "history.csv")[: state["epochs_done"]]
        best, initial_epoch = state["best_val_loss"], state["epochs_done"]
        batches.start_epoch(initial_epoch)
    metadata = digits_metadata(config.model, preprocess_config, model.count_params(), run=run_dir.name)
    write_json(run_dir / "args.json", {**asdict(config), "preprocess": preprocess_config.to_dict(),
                                       "train_images": len(grays), "valid_images": len(x_valid)})
    write_text(run_dir / "summary.txt", model_summary(model) + "\n")
    reporter.start(config.epochs, initial_epoch, len(batches))
    callbacks = [
        RunRecorder(run_dir, metadata, history, best, reporter),
        keras.callbacks.EarlyStopping("val_loss", patience=config.patience),
        keras.callbacks.ReduceLROnPlateau("val_loss", factor=0.5, patience=max(1, config.patience // 3)),
    ]
    try:
        model.fit(batches, validation_data=(x_valid, y_valid), epochs=config.epochs, initial_epoch=initial_epoch,
                  callbacks=callbacks, verbose=0)
    except KeyboardInterrupt as interrupt:
        raise TrainingInterrupted(run_dir) from interrupt
    return run_dir


def resume(run_dir: Path, reporter: Reporter = Reporter(), track: Track = no_track,
           epochs: Optional[int] = None) -> Path:
    """Continue an interrupted run from its last checkpoint."""
    run_dir = Path(run_dir)
    if not (run_dir / "last.keras").is_file() or not (run_dir / "state.json").is_file():
        raise KhmerDigitError(f"{run_dir} has no last.keras/state.json to resume from")
    saved = read_json(run_dir / "args.json")
    fields = TrainConfig.__dataclass_fields__
    config = TrainConfig(**{k: v for k, v in saved.items() if k in fields})
    if epochs is not None:
        config.epochs = epochs
    return train(config, reporter, track, resume_dir=run_dir)
