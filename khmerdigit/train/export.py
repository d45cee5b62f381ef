"""Export a trained Keras model to LiteRT (TFLite), optionally quantized, with its metadata."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Optional

import numpy as np

from khmerdigit import KhmerDigitError, defaults
from khmerdigit.data.dataset import labelled_files, load_arrays
from khmerdigit.fileio import atomic_path, write_json
from khmerdigit.runtime.backend import import_keras, native_stderr_silenced
from khmerdigit.runtime.classifier import read_metadata
from khmerdigit.runtime.registry import load_model_metadata, metadata_path
from khmerdigit.runtime.runners import KerasRunner

QUANTIZATIONS = ("none", "float16", "dynamic", "int8")  # dynamic: int8 weights, float activations
REPRESENTATIVE_IMAGES = 500  # training images used to calibrate int8 ranges


def representative_images(data: Path, config, limit: int = REPRESENTATIVE_IMAGES) -> np.ndarray:
    """Preprocessed images from the training split of a prepared dataset, evenly spread."""
    samples = labelled_files(Path(data), "train").samples
    if not samples:
        raise KhmerDigitError(f"int8 export needs training images: none found in {data}")
    chosen = samples[:: max(1, len(samples) // limit)][:limit]
    x, _, _, _ = load_arrays(chosen, config)
    return x


def export_tflite(model_path: Path, out_path: Path, quantize: str = "none", data: Optional[Path] = None) -> dict:
    """Convert `model_path` (.keras) to `out_path` (.tflite) and write `out_path`'s .json metadata."""
    import_keras()  # quiets TensorFlow's start-up before importing it
    import tensorflow as tf

    if quantize not in QUANTIZATIONS:
        raise KhmerDigitError(f"unknown --quantize {quantize!r}; choose from {', '.join(QUANTIZATIONS)}")
    if Path(model_path).suffix != ".keras":
        raise KhmerDigitError(f"{model_path}: export needs a .keras model")
    if Path(out_path).suffix != ".tflite":
        raise KhmerDigitError(f"{out_path}: the output file must end in .tflite")
    metadata = load_model_metadata(model_path)
    model = KerasRunner(Path(model_path)).model
    with tempfile.TemporaryDirectory() as saved, native_stderr_silenced():  # the converter logs pages to stderr
        model.export(saved, format="tf_saved_model", verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(saved)
        if quantize != "none":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if quantize == "float16":
            converter.target_spec.supported_types = [tf.float16]
        if quantize == "int8":
            _, config = read_metadata(model_path)  # int8 calibrates on digit images
            images = representative_images(data or defaults.PREPARED_DIR, config)
            converter.representative_dataset = lambda: ([image[None]] for image in images)
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            converter.inference_input_type = tf.int8
            converter.inference_output_type = tf.int8
        flatbuffer = converter.convert()
    with atomic_path(Path(out_path)) as tmp:
        tmp.write_bytes(flatbuffer)
    exported = {**metadata, "quantization": quantize, "source_model": Path(model_path).name}
    write_json(metadata_path(out_path), exported)
    return exported
