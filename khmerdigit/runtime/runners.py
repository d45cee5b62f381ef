"""Running a model file: LiteRT for .tflite (no TensorFlow), Keras for .keras.

A runner may be shared between threads (a web app's thread pool): its calls take turns, as the
LiteRT interpreter's tensors are the runner's own state. For parallel reading use one runner per
thread or process (`khmerdigit serve` keeps a pool of readers)."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Union

import numpy as np

from khmerdigit import KhmerDigitError

MAX_BATCH = 256  # images per model call: a number's cut search can ask for thousands at once (GBs of activations)


def in_batches(run, batch: np.ndarray) -> np.ndarray:
    """run(part) on parts of at most MAX_BATCH images, joined."""
    return np.concatenate([run(batch[start : start + MAX_BATCH]) for start in range(0, max(len(batch), 1), MAX_BATCH)])


class KerasRunner:
    """Runs a .keras model (TensorFlow), loaded in safe mode: no arbitrary code."""

    def __init__(self, path: Path):
        from khmerdigit.runtime.backend import import_keras

        keras = import_keras()
        try:
            self.model = keras.saving.load_model(path, compile=False, safe_mode=True)
        except Exception as error:  # Keras raises many types for bad or unsafe files
            raise KhmerDigitError(f"cannot load {path}: {str(error).splitlines()[0][:200]}") from None

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return in_batches(lambda part: np.asarray(self.model(part, training=False)), batch)


class LiteRTRunner:
    """Runs a .tflite model with the LiteRT interpreter, without TensorFlow."""

    def __init__(self, path: Path, batch_size: int = 64):
        from ai_edge_litert.interpreter import Interpreter

        from khmerdigit.runtime.backend import native_stderr_silenced

        try:
            with native_stderr_silenced():  # the interpreter announces its CPU delegate on stderr
                self.interpreter = Interpreter(model_path=str(path), num_threads=os.cpu_count() or 1)
                self.interpreter.allocate_tensors()
        except Exception as error:  # the interpreter raises ValueError/RuntimeError for bad files
            raise KhmerDigitError(f"cannot load {path}: {str(error).splitlines()[0][:200]}") from None
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]
        self.batch_size = 0
        self.lock = threading.Lock()
        self.resize(batch_size)

    def resize(self, batch_size: int) -> None:
        if batch_size != self.batch_size:
            shape = [batch_size, *self.input["shape"][1:]]
            self.interpreter.resize_tensor_input(self.input["index"], shape)
            self.interpreter.allocate_tensors()
            self.batch_size = batch_size

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        with self.lock:
            return in_batches(self.run, batch)

    def run(self, batch: np.ndarray) -> np.ndarray:
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
