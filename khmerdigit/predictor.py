"""Loading a model (.keras or .tflite, with its metadata) and classifying images in batches."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Optional, Union

import numpy as np

from khmerdigit import KHMER_GLYPHS, NUM_CLASSES, KhmerDigitError, __version__
from khmerdigit.fileio import display_path, read_json
from khmerdigit.preprocess import BadImageError, ImageSource, PreprocessConfig, preprocess

MODEL_SUFFIXES = (".keras", ".tflite")
ASSETS = Path(__file__).parent / "assets"
BUNDLED_MODEL = ASSETS / "default.tflite"
METADATA_FORMAT = "khmerdigit-model/1"
DIGITS_TASK = "digits"  # metadata "task" of digit classifiers (the default when absent)


def metadata_path(model_path: Path) -> Path:
    """The metadata file that sits beside every model file: best.keras -> best.json."""
    return Path(model_path).with_suffix(".json")


def make_metadata(architecture: str, config: PreprocessConfig, parameters: int, **extra) -> dict:
    """Everything a runtime needs to use a model correctly."""
    return {
        "format": METADATA_FORMAT,
        "task": DIGITS_TASK,
        "architecture": architecture,
        "classes": list(KHMER_GLYPHS),
        "labels": list(range(NUM_CLASSES)),
        "input_shape": [config.size, config.size, 1],
        "input_range": [0.0, 1.0],
        "preprocess": config.to_dict(),
        "parameters": parameters,
        "khmerdigit": __version__,
        **extra,
    }


def load_model_metadata(model_path: Path, task: Optional[str] = None) -> dict:
    """A model's metadata, checked to be this tool's (and for `task`, when given)."""
    path = metadata_path(model_path)
    if not path.is_file():
        raise KhmerDigitError(f"{model_path} has no metadata file {path.name} beside it")
    try:
        metadata = read_json(path)
    except (ValueError, OSError) as error:
        raise KhmerDigitError(f"cannot read model metadata {path}: {error}") from None
    if not isinstance(metadata, dict) or metadata.get("format") != METADATA_FORMAT:
        raise KhmerDigitError(f"{path} is not khmerdigit model metadata ({METADATA_FORMAT})")
    if task is not None and metadata.get("task", DIGITS_TASK) != task:
        raise KhmerDigitError(f"{model_path} is a {metadata.get('task')} model, not a {task} model")
    return metadata


def read_metadata(model_path: Path) -> tuple[dict, PreprocessConfig]:
    """Read and check a digit classifier's metadata; a clear error when it does not fit this tool."""
    metadata = load_model_metadata(model_path, DIGITS_TASK)
    if metadata.get("classes") != list(KHMER_GLYPHS):
        raise KhmerDigitError(f"{model_path} predicts other classes than the Khmer digits ០-៩")
    config = PreprocessConfig.from_dict(metadata["preprocess"])
    if metadata.get("input_shape") != [config.size, config.size, 1]:
        raise KhmerDigitError(f"{model_path}: input shape does not match its preprocessing")
    return metadata, config


def resolve_model(model: Optional[Path] = None, run: Optional[Path] = None) -> Path:
    """The model file to use: --model, else a run's best checkpoint, else the bundled model."""
    if model is not None and run is not None:
        raise KhmerDigitError("give either --model or --run, not both")
    if run is not None:
        model = Path(run) / "best.keras"
        if not model.is_file():
            raise KhmerDigitError(f"{run} has no best.keras; is it a training run folder?")
    if model is None:
        if not BUNDLED_MODEL.is_file():
            raise KhmerDigitError("this installation has no bundled model; pass --model or --run")
        return BUNDLED_MODEL
    model = Path(model)
    if model.suffix not in MODEL_SUFFIXES:
        raise KhmerDigitError(f"{model}: only .keras and .tflite models can be loaded")
    if not model.is_file():
        raise KhmerDigitError(f"model file not found: {model}")
    return model


class KerasRunner:
    """Runs a .keras model (TensorFlow), loaded in safe mode: no arbitrary code."""

    def __init__(self, path: Path):
        from khmerdigit.backend import import_keras

        keras = import_keras()
        try:
            self.model = keras.saving.load_model(path, compile=False, safe_mode=True)
        except Exception as error:  # Keras raises many types for bad or unsafe files
            raise KhmerDigitError(f"cannot load {path}: {str(error).splitlines()[0][:200]}") from None

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return np.asarray(self.model(batch, training=False))


class LiteRTRunner:
    """Runs a .tflite model with the LiteRT interpreter, without TensorFlow."""

    def __init__(self, path: Path, batch_size: int = 64):
        from ai_edge_litert.interpreter import Interpreter

        from khmerdigit.backend import native_stderr_silenced

        try:
            with native_stderr_silenced():  # the interpreter announces its CPU delegate on stderr
                self.interpreter = Interpreter(model_path=str(path), num_threads=os.cpu_count() or 1)
                self.interpreter.allocate_tensors()
        except Exception as error:  # the interpreter raises ValueError/RuntimeError for bad files
            raise KhmerDigitError(f"cannot load {path}: {str(error).splitlines()[0][:200]}") from None
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]
        self.batch_size = 0
        self.resize(batch_size)

    def resize(self, batch_size: int) -> None:
        if batch_size != self.batch_size:
            shape = [batch_size, *self.input["shape"][1:]]
            self.interpreter.resize_tensor_input(self.input["index"], shape)
            self.interpreter.allocate_tensors()
            self.batch_size = batch_size

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        self.resize(len(batch))
        scale, zero = self.input["quantization"]
        if self.input["dtype"] != np.float32:
            info = np.iinfo(self.input["dtype"])
            batch = np.clip(np.round(batch / scale + zero), info.min, info.max)
        self.interpreter.set_tensor(self.input["index"], batch.astype(self.input["dtype"]))
        self.interpreter.invoke()
        out = self.interpreter.get_tensor(self.output["index"])
        scale, zero = self.output["quantization"]
        return (out.astype(np.float32) - zero) * scale if self.output["dtype"] != np.float32 else out


def model_runner(path: Path) -> Union[KerasRunner, LiteRTRunner]:
    """The runtime for a model file: LiteRT for .tflite, Keras otherwise."""
    return LiteRTRunner(path) if path.suffix == ".tflite" else KerasRunner(path)


def checked_metadata(path: Path, task: str, expected: dict, name: str) -> dict:
    """A `task` model's metadata, which must hold the `expected` values its input was made with."""
    metadata = load_model_metadata(path, task)
    if any(metadata.get(key) != value for key, value in expected.items()):
        raise KhmerDigitError(f"{path} was made for another version of the {name}'s input")
    return metadata


@dataclass
class Prediction:
    """One image's result: `label` is None and `error` set when the image could not be read."""

    source: str
    label: Optional[int] = None
    confidence: float = 0.0
    top: tuple[tuple[int, float], ...] = ()
    error: Optional[str] = None

    @property
    def glyph(self) -> str:
        return KHMER_GLYPHS[self.label] if self.label is not None else ""


class Classifier:
    """A model with its preprocessing: images in, digit probabilities out."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.metadata, self.config = read_metadata(self.path)
        self.runner = model_runner(self.path)

    def probabilities(self, batch: np.ndarray) -> np.ndarray:
        """Preprocessed batch (n, size, size, 1) -> probabilities (n, 10)."""
        return self.runner(np.asarray(batch, dtype=np.float32))

    def predict(
        self, sources: Iterable[ImageSource], batch_size: int = 256, top_k: int = 1
    ) -> Iterator[Prediction]:
        """Classify images lazily, batch by batch; unreadable images yield a Prediction with `error`."""
        pending: list[tuple[str, np.ndarray]] = []
        for source in sources:
            name = display_path(source) if isinstance(source, (str, Path)) else "<image>"
            try:
                array = preprocess(source, self.config)
                if not array.any():
                    raise BadImageError("no ink found (blank image)")
            except BadImageError as error:
                yield from self._flush(pending, top_k)
                pending = []
                yield Prediction(name, error=str(error))
                continue
            pending.append((name, array))
            if len(pending) == batch_size:
                yield from self._flush(pending, top_k)
                pending = []
        yield from self._flush(pending, top_k)

    def _flush(self, pending: list[tuple[str, np.ndarray]], top_k: int) -> Iterator[Prediction]:
        if not pending:
            return
        probabilities = self.probabilities(np.stack([array for _, array in pending]))
        for (name, _), row in zip(pending, probabilities):
            order = np.argsort(row)[::-1][: max(1, top_k)]
            top = tuple((int(i), float(row[i])) for i in order)
            yield Prediction(name, top[0][0], top[0][1], top)


def load_classifier(model: Optional[Union[str, Path]] = None, run: Optional[Path] = None) -> Classifier:
    """Load --model, a run's best model, or the bundled model."""
    return Classifier(resolve_model(Path(model) if model else None, run))
