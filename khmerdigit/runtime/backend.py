"""Lazy access to Keras/TensorFlow, which take seconds to import."""

from __future__ import annotations

import contextlib
import os
import sys

from khmerdigit import KhmerDigitError


def import_keras():
    """Import and return keras (TensorFlow backend), quietly; a clear error if it is missing."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    try:
        with native_stderr_silenced():  # TensorFlow's C++ start-up chatter bypasses Python logging
            import keras
    except ImportError:
        raise KhmerDigitError("this needs TensorFlow: pip install 'khmerdigit[train]'") from None
    return keras


@contextlib.contextmanager
def native_stderr_silenced():
    """Point file descriptor 2 at /dev/null for the duration (Python-level errors still propagate)."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def set_seeds(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow, and ask TensorFlow for deterministic ops."""
    keras = import_keras()
    keras.utils.set_random_seed(seed)
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
