"""Every default the CLI and the library share, once, each with what it means.

The choices below (architectures, preprocessing methods, splits, quantizations) are also defined
where they are used; they are repeated here so that `khmerdigit --help` can offer them without
importing those modules (and TensorFlow or SciPy with them). `tests/test_usability.py` checks that
both lists agree.
"""

from __future__ import annotations

from pathlib import Path

PREPARED_DIR = Path("data/prepared")  # where `prepare` writes and `train`/`evaluate`/`export` read
RUNS_DIR = Path("runs")  # parent folder of training runs, evaluations and reports
REPORT_DIR = RUNS_DIR / "report"  # where `report` writes
SPLIT = "69/20/11"  # train/valid/test percentages of `prepare` (the paper's)
SEED = 0  # every random choice is seeded
ROTATIONS = 0  # rotated copies `prepare` adds (the paper used 29)

# Choices (see the module docstring)
DIGIT_MODELS = ("paper", "default")  # khmerdigit.train.architectures.digit_architectures()
PREPROCESS_METHODS = ("normalized", "paper")  # khmerdigit.runtime.preprocess.METHODS
SPLITS = ("train", "valid", "test")  # khmerdigit.data.dataset.SPLITS
QUANTIZATIONS = ("none", "float16", "dynamic", "int8")  # khmerdigit.train.export.QUANTIZATIONS

# Synthetic data
SYNTH_PER_CLASS = 500  # images per digit that `synth` writes
SYNTH_STRENGTH = 1.0  # distortion strength of `synth` (0 = clean, 2 = strongest)

# Training
MODEL = "default"  # architecture of `train`
EPOCHS = 40  # upper bound; early stopping usually ends sooner
BATCH_SIZE = 64
LEARNING_RATE = 2e-3  # Adam's; halved when the validation loss stalls
PATIENCE = 8  # epochs without validation-loss improvement before stopping

# Evaluation and export
EVAL_SPLIT = "test"  # the split `evaluate` scores
QUANTIZE = "none"  # `export` quantization

# Prediction and reading
THRESHOLD = 0.9  # a digit (or number) read with less confidence than this is marked uncertain
PREDICT_BATCH = 256  # images per classifier call
TOP_K = 1  # most likely digits `predict` shows

# The demo
DEMO_DIR = Path("khmerdigit-demo")
DEMO_PER_CLASS = 150
DEMO_EPOCHS = 15
