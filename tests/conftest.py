"""Shared fixtures: small image sets that the tests generate themselves."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import make_class_folders


@pytest.fixture
def raw_dir(tmp_path: Path) -> Path:
    return make_class_folders(tmp_path / "raw")


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory) -> Path:
    """A real (tiny) training run of the default model on generated data, shared by the tests."""
    from khmerdigit.data.dataset import prepare
    from khmerdigit.train.trainer import TrainConfig, train

    root = tmp_path_factory.mktemp("trained")
    make_class_folders(root / "raw", per_class=12)
    prepare(root / "raw", root / "prepared", fractions=(0.6, 0.2, 0.2))
    config = TrainConfig(data=[str(root / "prepared")], epochs=2, batch_size=32, project=str(root / "runs"))
    return train(config)
