"""Every model architecture, in one place. Adding one is one decorated function."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from khmerdigit import NUM_CLASSES, KhmerDigitError
from khmerdigit.runtime.preprocess import PreprocessConfig
from khmerdigit.runtime.registry import DIGITS, LINE, WHOLE_DIGIT, Network


@dataclass(frozen=True)
class Architecture:
    name: str
    build: Callable  # (keras module) -> keras.Model
    network: Network  # what kind of network it builds (its task and input)
    preprocess: Optional[PreprocessConfig]  # digit classifiers: the preprocessing they expect
    summary: str


ARCHITECTURES: dict[str, Architecture] = {}


def architecture(name: str, network: Network = DIGITS, size: Optional[int] = None,
                 method: str = "normalized") -> Callable:
    """Register a model builder under `name`; a digit classifier also names its input size and preprocessing."""

    def register(build: Callable) -> Callable:
        config = PreprocessConfig(size=size, method=method) if size else None
        ARCHITECTURES[name] = Architecture(name, build, network, config, (build.__doc__ or "").strip())
        return build

    return register


def digit_architectures() -> list[str]:
    """Names of the digit classifiers (what `train --model` offers)."""
    return [name for name, arch in ARCHITECTURES.items() if arch.network is DIGITS]


def get_architecture(name: str) -> Architecture:
    """A digit classifier's architecture by name."""
    if name not in digit_architectures():
        raise KhmerDigitError(f"unknown model {name!r}; choose from {', '.join(digit_architectures())}")
    return ARCHITECTURES[name]


def conv_block(keras, x, filters: int):
    """3x3 convolution, batch norm, ReLU."""
    x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    x = keras.layers.BatchNormalization(momentum=0.9)(x)  # small datasets: few steps per epoch
    return keras.layers.ReLU()(x)


@architecture("paper", size=64, method="paper")
def paper_cnn(keras):
    """The paper's CNN (Ly Sreypov 2025): 18,442 parameters on 64x64 inverted images."""
    inputs = keras.Input((64, 64, 1), name="image")
    # The paper's summary has Conv2D(8, 3x3) giving 16x16x8 from a 64x64 input: stride 4.
    x = keras.layers.Conv2D(8, 3, strides=4, padding="same", activation="relu")(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Dropout(0.25)(x)
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu")(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Dropout(0.25)(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(64, activation="relu")(x)
    x = keras.layers.Dropout(0.5)(x)
    outputs = keras.layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="paper")


@architecture("default", size=32)
def default_cnn(keras):
    """Our default: a 4-stage CNN on 32x32 normalized images, ~100k parameters, ~4M multiply-adds."""
    inputs = keras.Input((32, 32, 1), name="image")
    x = inputs
    for filters in (16, 32, 64):
        x = conv_block(keras, x, filters)
        x = keras.layers.MaxPooling2D()(x)
    x = conv_block(keras, x, 128)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.3)(x)
    outputs = keras.layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="default")


@architecture("whole-digit", WHOLE_DIGIT)
def whole_digit_cnn(keras):
    """The whole-digit verifier used by `read`: P(the candidate is exactly one whole digit), ~142k parameters."""
    inputs = keras.Input(WHOLE_DIGIT.input_shape, name="context")
    x = inputs
    for filters in (24, 48, 64):
        x = conv_block(keras, x, filters)
        x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Flatten()(x)  # where the ink lies matters: a whole digit fills the middle, alone
    x = keras.layers.Dropout(0.4)(x)
    x = keras.layers.Dense(64, activation="elu")(x)  # with ReLU, "all units off" capped P(whole) at one value
    x = keras.layers.Dropout(0.3)(x)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="whole_digit")(x)
    return keras.Model(inputs, outputs, name="whole_digit")


LINE_COLUMNS = LINE.input_shape[1] // 4  # the line reader says what each 4-pixel column of its input shows


@architecture("line-reader", LINE)
def line_cnn(keras):
    """The line reader used by `read`: for each 4-pixel column of a whole number, P(no digit, ០ ... ៩),
    read with CTC (`khmerdigit.reading.line_reader`); ~235k parameters."""
    inputs = keras.Input(LINE.input_shape, name="line")
    x = inputs
    for filters, pool in ((16, (2, 2)), (32, (2, 2)), (64, (2, 1)), (64, None)):
        x = conv_block(keras, x, filters)
        if pool:
            x = keras.layers.MaxPooling2D(pool)(x)
    x = keras.layers.Permute((2, 1, 3))(x)  # columns first
    x = keras.layers.Reshape((LINE_COLUMNS, -1))(x)
    for dilation in (1, 2, 4):  # each column sees its neighbours' features, up to a digit away and more
        x = keras.layers.Conv1D(128, 3, padding="same", dilation_rate=dilation, activation="relu")(x)
        x = keras.layers.Dropout(0.1)(x)
    outputs = keras.layers.Dense(1 + NUM_CLASSES, activation="softmax", name="columns")(x)
    return keras.Model(inputs, outputs, name="line_reader")
