"""Shared fixtures: small image sets that the tests generate themselves."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from khmerdigit.strokes import render_digit

REAL_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "khmer-digits-real"


def digit_image(label: int, seed: int = 0, size: int = 48) -> Image.Image:
    """A generated handwritten-style digit, dark ink on white."""
    return render_digit(label, np.random.default_rng([label, seed]), size)


def make_class_folders(root: Path, per_class: int = 6, labels=range(10), seed: int = 0) -> Path:
    """root/<label>/img_<n>.png with generated digits."""
    for label in labels:
        (root / str(label)).mkdir(parents=True, exist_ok=True)
        for n in range(per_class):
            digit_image(label, seed * 1000 + n).save(root / str(label) / f"img_{n}.png")
    return root


def tree_hashes(root: Path) -> dict[str, str]:
    """sha256 of every file under root, by relative path."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def raw_dir(tmp_path: Path) -> Path:
    return make_class_folders(tmp_path / "raw")


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory) -> Path:
    """A real (tiny) training run of the default model on generated data, shared by the tests."""
    from khmerdigit.dataset import prepare
    from khmerdigit.training import TrainConfig, train

    root = tmp_path_factory.mktemp("trained")
    make_class_folders(root / "raw", per_class=12)
    prepare(root / "raw", root / "prepared", fractions=(0.6, 0.2, 0.2))
    config = TrainConfig(data=[str(root / "prepared")], epochs=2, batch_size=32, project=str(root / "runs"))
    return train(config)
