"""The digit classifier: a model with its preprocessing, classifying images in batches."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator, Optional, Union

import numpy as np
from PIL import Image
from scipy import ndimage, sparse

from khmerdigit import KHMER_GLYPHS, KhmerDigitError, defaults
from khmerdigit.fileio import display_path
from khmerdigit.runtime.preprocess import (
    INK_THRESHOLD,
    BadImageError,
    ImageSource,
    PreprocessConfig,
    as_gray,
    digit_ink,
    preprocess,
)
from khmerdigit.runtime.registry import BUNDLED_MODEL, DIGITS, load_model_metadata, model_file
from khmerdigit.runtime.runners import model_runner


def read_metadata(model_path: Path) -> tuple[dict, PreprocessConfig]:
    """Read and check a digit classifier's metadata; a clear error when it does not fit this tool."""
    metadata = load_model_metadata(model_path, DIGITS.task)
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
    if model is None and not BUNDLED_MODEL.is_file():
        raise KhmerDigitError("this installation has no bundled model; pass --model or --run")
    return model_file(DIGITS, model)


MAX_PROBABILITY = 0.999999  # the most confident a digit can be
SEVERAL_MARKS = ("looks like a number of about {marks} digits, not one digit: read it with `khmerdigit read` "
                 "(over HTTP: /v1/read)")
GAP = 0.15  # marks closer than this share of the tallest mark's height are one mark (a pen lift)
MARK_HEIGHT = 0.5  # marks at least this share of the tallest mark's height are digit-sized
WIDE = 2.0  # one mark wider than this many heights holds several digits


def digit_sized_marks(ink: np.ndarray) -> int:
    """About how many digits an image's `digit_ink` holds side by side (a digit: 1; a number: several): its
    digit-sized marks; a mark too wide for one digit counts as the digit-sized pieces it holds side by side
    (printed digits nearly touch), or as one per WIDE heights when they touch."""
    labels, _ = ndimage.label(ink > INK_THRESHOLD)
    spans = sorted((box[1].start, box[1].stop, box[0].stop - box[0].start) for box in ndimage.find_objects(labels))
    if not spans:
        return 0
    tallest = max(height for _, _, height in spans)
    groups: list[list[int]] = []  # [left, right, height, digit-sized pieces side by side] of marks that overlap
    for left, right, height in spans:  # or nearly touch horizontally
        sized = height >= MARK_HEIGHT * tallest
        if groups and left <= groups[-1][1] + GAP * tallest:
            first, last, tallest_here, pieces = groups[-1]
            groups[-1] = [first, max(last, right), max(tallest_here, height), pieces + (sized and left >= last)]
        else:
            groups.append([left, right, height, int(sized)])
    return sum(pieces if right - left > WIDE * height and pieces > 1  # printed digits, nearly touching
               else max(1, round((right - left) / (WIDE * height)))  # a digit, or digits touching
               for left, right, height, pieces in groups if height >= MARK_HEIGHT * tallest)


@dataclass
class Prediction:
    """One image's result: `label` is None and `error` set when the image could not be read; `warning` when
    the image looks like more than one digit."""

    source: str
    label: Optional[int] = None
    confidence: float = 0.0
    top: tuple[tuple[int, float], ...] = ()
    error: Optional[str] = None
    warning: Optional[str] = None
    threshold: float = defaults.THRESHOLD

    @property
    def glyph(self) -> str:
        return KHMER_GLYPHS[self.label] if self.label is not None else ""

    @property
    def uncertain(self) -> bool:
        """True if the confidence is below the threshold (a `warning` says the image may hold several digits)."""
        return self.error is None and self.confidence < self.threshold

    def to_dict(self, top_k: int = 1) -> dict:
        """The JSON form of this result (what `predict --json` and the HTTP API print)."""
        if self.error is not None:
            return {"file": self.source, "digit": None, "glyph": None, "confidence": None, "error": self.error}
        record = {"file": self.source, "digit": self.label, "glyph": self.glyph, "confidence": round(self.confidence, 6),
                  "uncertain": self.uncertain, "threshold": self.threshold, "warning": self.warning}
        if top_k > 1:
            record["top"] = [{"digit": label, "glyph": KHMER_GLYPHS[label], "confidence": round(p, 6)}
                             for label, p in self.top[:top_k]]
        return record


def with_temperature(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """Softmax probabilities re-scaled as if their logits were divided by `temperature` (> 1: less sure)."""
    if temperature == 1.0:
        return probabilities
    logits = np.log(np.maximum(probabilities, 1e-12)) / temperature
    scaled = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return scaled / scaled.sum(axis=-1, keepdims=True)


# Test-time views of a preprocessed digit, (degrees turned, scale): as it is, turned a little either way,
# a little smaller and larger. A model whose metadata says `views: n` averages its probabilities over
# the first n (calibrated with them); unseen writers' digits are read more often right that way.
VIEWS = ((0.0, 1.0), (-8.0, 1.0), (8.0, 1.0), (0.0, 0.9), (0.0, 1.1))


def checked_views(views: int, asked_by: str) -> int:
    """`views` if that many of VIEWS exist; else a clear error naming who asked."""
    if not 1 <= views <= len(VIEWS):
        raise KhmerDigitError(f"{asked_by} asks for {views} views; 1 to {len(VIEWS)} exist")
    return views


@lru_cache(maxsize=None)
def view_matrix(size: int, degrees: float, scale: float) -> sparse.csr_matrix:
    """The linear map (bilinear interpolation, nothing beyond the edges) from a flattened size x size image
    to its view, turned by `degrees` and scaled by `scale` about its centre."""
    angle = np.deg2rad(degrees)
    inverse = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) / scale
    centre = (size - 1) / 2
    pixels = np.indices((size, size)).reshape(2, -1)
    source = inverse @ (pixels - centre) + centre  # where each output pixel comes from
    corner = np.floor(source).astype(int)
    fraction = source - corner
    targets, sources, weights = [], [], []
    for step in ((0, 0), (0, 1), (1, 0), (1, 1)):  # the four neighbours of each source point
        row, col = corner[0] + step[0], corner[1] + step[1]
        weight = np.where(step[0], fraction[0], 1 - fraction[0]) * np.where(step[1], fraction[1], 1 - fraction[1])
        inside = (row >= 0) & (row < size) & (col >= 0) & (col < size) & (weight > 0)
        targets.append(np.flatnonzero(inside))
        sources.append(row[inside] * size + col[inside])
        weights.append(weight[inside])
    entries = (np.concatenate(weights), (np.concatenate(targets), np.concatenate(sources)))
    return sparse.csr_matrix(entries, shape=(size * size, size * size), dtype=np.float32)


def view(batch: np.ndarray, degrees: float, scale: float) -> np.ndarray:
    """A preprocessed batch (n, size, size, 1), each image turned by `degrees` and scaled about its centre."""
    if degrees == 0.0 and scale == 1.0:
        return batch
    size = batch.shape[1]
    flat = batch.reshape(len(batch), size * size)
    return np.asarray((view_matrix(size, degrees, scale) @ flat.T).T, np.float32).reshape(batch.shape)


class Classifier:
    """A model with its preprocessing and calibration: images in, digit probabilities out."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.metadata, self.config = read_metadata(self.path)
        self.temperature = float(self.metadata.get("temperature", 1.0))  # fitted on held-out data when calibrated
        self.views = checked_views(int(self.metadata.get("views", 1)), f"{self.path}'s metadata")
        self.runner = model_runner(self.path)

    def probabilities(self, batch: np.ndarray) -> np.ndarray:
        """Preprocessed batch (n, size, size, 1) -> calibrated probabilities (n, 10), averaged over the model's
        views, never quite 1: a quantized model rounds near-certainty up to exactly 1, which no reading deserves."""
        batch = np.asarray(batch, dtype=np.float32)
        views = VIEWS[: self.views]
        every_view = self.runner(np.concatenate([view(batch, *v) for v in views]))
        probabilities = with_temperature(every_view, self.temperature).reshape(len(views), len(batch), -1).mean(axis=0)
        return np.minimum(probabilities, MAX_PROBABILITY)

    def predict(
        self, sources: Union[ImageSource, Iterable[ImageSource]], batch_size: int = 256, top_k: int = 1,
        threshold: float = defaults.THRESHOLD,
    ) -> Iterator[Prediction]:
        """Classify one image or many, lazily, batch by batch; unreadable images yield a Prediction with `error`;
        a digit read with less confidence than `threshold` is marked uncertain."""
        if isinstance(sources, (str, Path, bytes, Image.Image, np.ndarray)) or hasattr(sources, "read"):
            sources = [sources]
        pending: list[tuple[str, np.ndarray, Optional[str]]] = []
        for source in sources:
            name = display_path(source) if isinstance(source, (str, Path)) else "<image>"
            try:
                gray = as_gray(source)
                ink = digit_ink(gray)  # shared by the model input and the count of marks
                array = preprocess(gray, self.config, ink)
                if not array.any():
                    raise BadImageError("no ink found (blank image)")
            except BadImageError as error:
                yield from self._flush(pending, top_k, threshold)
                pending = []
                yield Prediction(name, error=str(error))
                continue
            marks = digit_sized_marks(ink)
            pending.append((name, array, SEVERAL_MARKS.format(marks=marks) if marks > 1 else None))
            if len(pending) == batch_size:
                yield from self._flush(pending, top_k, threshold)
                pending = []
        yield from self._flush(pending, top_k, threshold)

    def _flush(self, pending: list[tuple[str, np.ndarray, Optional[str]]], top_k: int,
               threshold: float) -> Iterator[Prediction]:
        if not pending:
            return
        probabilities = self.probabilities(np.stack([array for _, array, _ in pending]))
        for (name, _, warning), row in zip(pending, probabilities):
            order = np.argsort(row)[::-1][: max(1, top_k)]
            top = tuple((int(i), float(row[i])) for i in order)
            yield Prediction(name, top[0][0], top[0][1], top, warning=warning, threshold=threshold)


def load_classifier(model: Optional[Union[str, Path]] = None, run: Optional[Path] = None) -> Classifier:
    """Load --model, a run's best model, or the bundled model."""
    return Classifier(resolve_model(Path(model) if model else None, run))
