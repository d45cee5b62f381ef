"""The models, loaded once per process, and the JSON records they give for uploaded images.

The records are exactly those of `predict --json` and `read --json`, with the upload's file name as "file".
"""

from __future__ import annotations

import hashlib
import queue
from collections.abc import Callable
from pathlib import Path

from khmerdigit import KHMER_GLYPHS, __version__, defaults
from khmerdigit.reading.reader import NumberReader, load_number_reader
from khmerdigit.runtime.classifier import Classifier, load_classifier
from khmerdigit.runtime.preprocess import BadImageError
from khmerdigit.runtime.registry import DIGITS, NETWORKS
from khmerdigit.serve.settings import ServeSettings
from khmerdigit.serve.uploads import Upload

NO_DIGITS = "no digits found"  # a readable image with nothing to read, as `read` reports it


class Pool:
    """Copies of a model that must not run in two threads at once; each call borrows a free copy."""

    def __init__(self, copies: list):
        self.free: queue.SimpleQueue = queue.SimpleQueue()
        for copy in copies:
            self.free.put(copy)

    def run(self, function: Callable[..., object], *args):
        """function(copy, *args) with a free copy, waiting for one while all are busy (call it in a worker thread)."""
        model = self.free.get()
        try:
            return function(model, *args)
        finally:
            self.free.put(model)


def predict_records(classifier: Classifier, uploads: list[Upload], top_k: int, threshold: float) -> list[dict]:
    """One `predict --json` record per upload, in order."""
    predictions = classifier.predict([upload.data for upload in uploads], defaults.PREDICT_BATCH, top_k, threshold)
    return [{**prediction.to_dict(top_k), "file": upload.filename} for upload, prediction in zip(uploads, predictions)]


def read_records(reader: NumberReader, uploads: list[Upload], threshold: float) -> list[dict]:
    """One `read --json` record per upload, in order; an image without digits gets an error record."""
    records = []
    for upload in uploads:
        try:
            reading = reader.read(upload.data, threshold)
        except BadImageError as error:
            records.append({"file": upload.filename, "error": str(error)})
            continue
        if reading.digits:
            records.append({**reading.to_dict(), "file": upload.filename})
        else:
            records.append({"file": upload.filename, "error": NO_DIGITS})
    return records


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def model_info(classifier: Classifier, settings: ServeSettings) -> dict:
    """What GET /v1/model tells: version, classes, preprocessing, each model file's sha256, the limits."""
    files = {network: network.bundled for network in NETWORKS.values()} | {DIGITS: classifier.path}
    return {
        "version": __version__,
        "classes": [{"digit": digit, "glyph": glyph} for digit, glyph in enumerate(KHMER_GLYPHS)],
        "preprocess": classifier.config.to_dict(),
        "threshold": defaults.THRESHOLD,
        "models": [{"task": network.task, "file": path.name, "sha256": sha256(path)} for network, path in files.items()],
        "limits": {"max_upload_bytes": settings.max_upload_bytes, "max_files": settings.max_files},
    }


class Models:
    """Every model the server runs, loaded once: `settings.copies` classifiers and number readers."""

    def __init__(self, settings: ServeSettings):
        classifiers = [load_classifier(settings.model) for _ in range(settings.copies)]
        self.classifiers = Pool(classifiers)
        self.readers = Pool([load_number_reader(model=settings.model) for _ in range(settings.copies)])
        self.info = model_info(classifiers[0], settings)

    def predict(self, uploads: list[Upload], top_k: int, threshold: float) -> list[dict]:
        return self.classifiers.run(predict_records, uploads, top_k, threshold)

    def read(self, uploads: list[Upload], threshold: float) -> list[dict]:
        return self.readers.run(read_records, uploads, threshold)
