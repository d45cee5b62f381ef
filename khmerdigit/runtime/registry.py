"""Every network khmerdigit runs, in one place: its task, bundled file, input and metadata.

A model file always has a metadata file beside it (best.keras -> best.json) that names its task and
the input it was made for; loading checks both, so a model is never fed an input of another shape
or preprocessing. Architectures (how each network is built) live in `khmerdigit.train.architectures`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from khmerdigit import KHMER_GLYPHS, NUM_CLASSES, KhmerDigitError, __version__
from khmerdigit.fileio import read_json
from khmerdigit.runtime.preprocess import PreprocessConfig

ASSETS = Path(__file__).resolve().parent.parent / "assets"
METADATA_FORMAT = "khmerdigit-model/1"
MODEL_SUFFIXES = (".keras", ".tflite")


@dataclass(frozen=True, eq=False)  # one object per kind: compared and hashed by identity
class Network:
    """A kind of network: its metadata task, bundled file and the input facts its metadata must hold."""

    task: str
    name: str  # for messages
    bundled: Path
    input_facts: dict = field(default_factory=dict)  # metadata values a model of this task must have

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.input_facts.get("input_shape", ()))


CONTEXT_WIDTH = 2.0  # the whole-digit verifier sees this many digit heights around a candidate
LINE_MARGIN = 0.15  # the line reader's margin around the ink, as a share of its height

DIGITS = Network("digits", "digit classifier", ASSETS / "default.tflite")  # input: from its preprocessing
WHOLE_DIGIT = Network("whole-digit", "verifier", ASSETS / "verifier.tflite",
                      {"input_shape": [40, 40, 2], "context_width": CONTEXT_WIDTH})
LINE = Network("line", "line-reader", ASSETS / "line.tflite", {"input_shape": [24, 256, 1], "line_margin": LINE_MARGIN})
NETWORKS = {network.task: network for network in (DIGITS, WHOLE_DIGIT, LINE)}
BUNDLED_MODEL = DIGITS.bundled


def metadata_path(model_path: Path) -> Path:
    """The metadata file that sits beside every model file: best.keras -> best.json."""
    return Path(model_path).with_suffix(".json")


def network_metadata(network: Network, parameters: int, **extra) -> dict:
    """The metadata of a new model of `network`'s kind."""
    return {"format": METADATA_FORMAT, "task": network.task, **network.input_facts, "parameters": parameters,
            "khmerdigit": __version__, **extra}


def digits_metadata(architecture: str, config: PreprocessConfig, parameters: int, **extra) -> dict:
    """The metadata of a new digit classifier: everything a runtime needs to use it correctly."""
    return network_metadata(DIGITS, parameters, architecture=architecture, classes=list(KHMER_GLYPHS),
                            labels=list(range(NUM_CLASSES)), input_shape=[config.size, config.size, 1],
                            input_range=[0.0, 1.0], preprocess=config.to_dict(), **extra)


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
    if task is not None and metadata.get("task", DIGITS.task) != task:
        raise KhmerDigitError(f"{model_path} is a {metadata.get('task')} model, not a {task} model")
    return metadata


def checked_metadata(path: Path, network: Network) -> dict:
    """A model's metadata, which must be of `network`'s task and hold the input facts it was made with."""
    metadata = load_model_metadata(path, network.task)
    if any(metadata.get(key) != value for key, value in network.input_facts.items()):
        raise KhmerDigitError(f"{path} was made for another version of the {network.name}'s input")
    return metadata


def model_file(network: Network, path: Optional[Path] = None) -> Path:
    """`path`, or the network's bundled file; a clear error when it does not exist."""
    path = Path(path) if path else network.bundled
    if path.suffix not in MODEL_SUFFIXES:
        raise KhmerDigitError(f"{path}: only .keras and .tflite models can be loaded")
    if not path.is_file():
        raise KhmerDigitError(f"{network.name} model not found: {path}")
    return path
