"""Averaging digit classifiers into one model file: one runner, the members' mean probabilities."""

from __future__ import annotations

from pathlib import Path

from khmerdigit import KhmerDigitError
from khmerdigit.runtime.backend import import_keras
from khmerdigit.runtime.classifier import read_metadata
from khmerdigit.runtime.registry import digits_metadata
from khmerdigit.train.trainer import save_model


def ensemble(members: list[Path], out: Path) -> Path:
    """Save a .keras model whose output is the mean of the `members`' probabilities (same preprocessing)."""
    keras = import_keras()
    metadata = [read_metadata(Path(path)) for path in members]
    configs = {config for _, config in metadata}
    if len(members) < 2 or len(configs) != 1:
        raise KhmerDigitError("an ensemble needs two or more .keras models made for the same preprocessing")
    inputs = keras.Input(metadata[0][0]["input_shape"], name="image")
    outputs = []
    for index, path in enumerate(members):
        member = keras.saving.load_model(path, compile=False, safe_mode=True)
        member.name = f"member_{index}"  # nested models need distinct names
        outputs.append(member(inputs))
    model = keras.Model(inputs, keras.layers.Average(name="probabilities")(outputs), name="ensemble")
    architecture = "+".join(info["architecture"] for info, _ in metadata)
    names = [f"{Path(path).parent.name}/{Path(path).name}" for path in members]  # e.g. bundled/best.keras
    save_model(model, Path(out), digits_metadata(architecture, configs.pop(), model.count_params(), members=names))
    return Path(out)
