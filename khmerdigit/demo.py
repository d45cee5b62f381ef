"""The built-in demo: the whole pipeline on synthetic data the tool makes itself."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from khmerdigit.data.dataset import labelled_files, prepare
from khmerdigit.data.synth import synthesize
from khmerdigit.evaluate.metrics import evaluate
from khmerdigit.evaluate.report import build_report
from khmerdigit.progress import Track, no_track
from khmerdigit.runs import new_run_dir
from khmerdigit.runtime.classifier import Classifier


@dataclass
class DemoResult:
    workdir: Path
    run_dir: Path
    metrics: dict


def run_demo(workdir: Path, per_class: int = 150, epochs: int = 15, track: Track = no_track,
             reporter=None, seed: int = 0) -> DemoResult:
    """synth -> prepare -> train (default model) -> evaluate (test split) -> report, all inside `workdir`."""
    from khmerdigit.train.trainer import Reporter, TrainConfig, train

    workdir = new_run_dir(Path(workdir).parent, Path(workdir).name)
    synthesize(workdir / "raw", per_class=per_class, seed=seed, track=track)
    prepare(workdir / "raw", workdir / "prepared", seed=seed, track=track)
    config = TrainConfig(data=[str(workdir / "prepared")], epochs=epochs, patience=epochs, seed=seed,
                         project=str(workdir / "runs"))
    run_dir = train(config, reporter or Reporter(), track)
    classifier = Classifier(run_dir / "best.keras")
    test = labelled_files(workdir / "prepared", "test").samples
    subject = f"{config.model} model ({run_dir.name}/best.keras), demo synthetic test split"
    result = evaluate(classifier, test, run_dir / "eval-test", track, subject=subject)
    build_report([run_dir], workdir / "report")
    return DemoResult(workdir, run_dir, result.metrics)
